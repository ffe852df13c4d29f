import { loadApp } from "../../lib/app/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { buildImage } from "../../lib/docker/image.ts";
import { dirArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "docker:build" },
  args: {
    ...dirArgs,
    service: {
      type: "string",
      description:
        "With compose builds: the service whose image is tagged docker.image (default: docker.service, else the first with a build section)",
      valueHint: "name",
    },
  },
  async run({ args }) {
    const built = await buildImage(loadApp(args.dir), args.service);
    log.success(built.image ? `built ${built.image}` : "built the compose services (no docker.image to tag)");
  },
});
