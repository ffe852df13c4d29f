import { loadApp } from "../../lib/app/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { compose } from "../../lib/docker/docker.ts";
import { dirArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "docker:compose:down" },
  args: { ...dirArgs },
  async run({ args }) {
    await compose(loadApp(args.dir), ["down"], { inherit: true });
    log.success("containers are down");
  },
});
