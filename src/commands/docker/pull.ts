import { loadApp } from "../../lib/app/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { pullImage } from "../../lib/docker/image.ts";
import { dirArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "docker:pull" },
  args: { ...dirArgs },
  async run({ args }) {
    const image = await pullImage(loadApp(args.dir));
    log.success(image ? `pulled ${image}` : "pulled the compose services' images");
  },
});
