import { loadApp } from "../../lib/app/app.ts";
import { parseWholeNumber, wholeNumberArg } from "../../lib/core/argv.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { composeAttached, execArgs, nginxLogsCommand } from "../../lib/docker/compose-attach.ts";
import { resolveNginxService } from "../../lib/docker/compose-service.ts";
import { dirArgs } from "../_args.ts";

const tailArg = wholeNumberArg("Start with the last N lines of each log (default: tail's 10)", "n", {
  min: 0,
  unit: "lines",
  example: 100,
});

export default defineProtocolCommand({
  meta: { name: "nginx:logs" },
  args: {
    ...dirArgs,
    service: {
      type: "string",
      description:
        "The container running nginx (default: the service named nginx, else docker.service, else the first)",
      valueHint: "name",
    },
    tail: tailArg,
  },
  async run({ args }) {
    const tail = parseWholeNumber("tail", args.tail, tailArg.wholeNumber);
    const app = loadApp(args.dir);
    const service = await resolveNginxService(app, args.service);
    process.exitCode = await composeAttached(
      app,
      execArgs(service, nginxLogsCommand(tail), Boolean(process.stdin.isTTY)),
    );
  },
});
