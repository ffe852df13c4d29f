import { defineProtocolCommand, parseWholeNumber } from "../../lib/core/command.ts";
import { composeAttached, logsArgs } from "../../lib/docker/compose-attach.ts";
import { loadApp } from "../../lib/node/app.ts";
import { dirArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "docker:logs" },
  args: {
    ...dirArgs,
    service: { type: "string", description: "Only this compose service (default: every service)", valueHint: "name" },
    tail: {
      type: "string",
      description: "Start with the last N lines of each container (default: all)",
      valueHint: "n",
    },
  },
  async run({ args }) {
    const tail = parseWholeNumber("tail", args.tail, 0, "lines");
    process.exitCode = await composeAttached(loadApp(args.dir), logsArgs({ service: args.service, tail }));
  },
});
