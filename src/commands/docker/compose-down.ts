import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand } from "../../lib/command.ts";
import { compose } from "../../lib/docker.ts";
import { log } from "../../lib/log.ts";
import { dirArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "docker:compose:down", description: "Stop and remove the app's containers: docker compose down" },
  args: { ...dirArgs },
  async run({ args }) {
    await compose(loadApp(args.dir), ["down"], { inherit: true });
    log.success("containers are down");
  },
});
