import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand } from "../../lib/command.ts";
import { compose } from "../../lib/docker.ts";
import { log } from "../../lib/log.ts";
import { dirArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "docker:compose", description: "Start the app's containers: docker compose up -d" },
  args: { ...dirArgs },
  async run({ args }) {
    await compose(loadApp(args.dir), ["up", "-d"], { inherit: true });
    log.success("containers are up");
  },
});
