import { loadApp } from "../../lib/app/app.ts";
import { parseWholeNumber, wholeNumberArg } from "../../lib/core/argv.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { composeAttached, logsArgs } from "../../lib/docker/compose-attach.ts";
import { dirArgs } from "../_args.ts";

const tailArg = wholeNumberArg("Start with the last N lines of each container (default: all)", "n", {
  min: 0,
  unit: "lines",
  example: 100,
});

export default defineProtocolCommand({
  meta: { name: "docker:logs" },
  args: {
    ...dirArgs,
    service: { type: "string", description: "Only this compose service (default: every service)", valueHint: "name" },
    tail: tailArg,
  },
  async run({ args }) {
    const tail = parseWholeNumber("tail", args.tail, tailArg.wholeNumber);
    process.exitCode = await composeAttached(loadApp(args.dir), logsArgs({ service: args.service, tail }));
  },
});
