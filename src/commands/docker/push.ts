import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand } from "../../lib/command.ts";
import { pushImage } from "../../lib/docker-image.ts";
import { log } from "../../lib/log.ts";
import { dirArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "docker:push", description: "Push docker.image to its registry (compose push when no image is configured)" },
  args: { ...dirArgs },
  async run({ args }) {
    const image = await pushImage(loadApp(args.dir));
    log.success(image ? `pushed ${image}` : "pushed the compose services' images");
  },
});
