import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand } from "../../lib/command.ts";
import { compose } from "../../lib/docker.ts";
import { log } from "../../lib/log.ts";
import { dirArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "docker:compose:rebuild", description: "Pull, build and recreate the app's containers: compose pull, then up -d --build --force-recreate" },
  args: { ...dirArgs },
  async run({ args }) {
    const app = loadApp(args.dir);
    // Pull first: if that fails, the running containers are untouched.
    await compose(app, ["pull"], { inherit: true });
    await compose(app, ["up", "-d", "--build", "--force-recreate"], { inherit: true });
    log.success("containers rebuilt and recreated");
  },
});
