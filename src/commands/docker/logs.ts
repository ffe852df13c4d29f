import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand, parseWholeNumber } from "../../lib/command.ts";
import { composeAttached, logsArgs } from "../../lib/compose-attach.ts";
import { dirArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "docker:logs", description: "Follow the containers' logs (docker compose logs --follow); Ctrl-C stops" },
  args: {
    ...dirArgs,
    service: { type: "string", description: "Only this compose service (default: every service)", valueHint: "name" },
    tail: { type: "string", description: "Start with the last N lines of each container (default: all)", valueHint: "n" },
  },
  async run({ args }) {
    const tail = parseWholeNumber("tail", args.tail, 0, "lines");
    process.exitCode = await composeAttached(loadApp(args.dir), logsArgs({ service: args.service, tail }));
  },
});
