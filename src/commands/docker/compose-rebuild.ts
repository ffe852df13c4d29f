import { loadApp } from "../../lib/app/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { compose } from "../../lib/docker/docker.ts";
import { dirArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "docker:compose:rebuild" },
  args: { ...dirArgs },
  async run({ args }) {
    const app = loadApp(args.dir);
    // Pull first: if that fails, the running containers are untouched.
    await compose(app, ["pull"], { inherit: true });
    await compose(app, ["up", "-d", "--build", "--force-recreate"], { inherit: true });
    log.success("containers rebuilt and recreated");
  },
});
