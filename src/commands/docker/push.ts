import { loadApp } from "../../lib/app/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { pushImage } from "../../lib/docker/image.ts";
import { dirArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "docker:push" },
  args: { ...dirArgs },
  async run({ args }) {
    const image = await pushImage(loadApp(args.dir));
    log.success(image ? `pushed ${image}` : "pushed the compose services' images");
  },
});
