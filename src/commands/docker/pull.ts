import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand } from "../../lib/command.ts";
import { pullImage } from "../../lib/docker-image.ts";
import { log } from "../../lib/log.ts";
import { dirArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "docker:pull", description: "Pull docker.image from its registry (compose pull when no image is configured)" },
  args: { ...dirArgs },
  async run({ args }) {
    const image = await pullImage(loadApp(args.dir));
    log.success(image ? `pulled ${image}` : "pulled the compose services' images");
  },
});
