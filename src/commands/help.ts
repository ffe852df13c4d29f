import { defineProtocolCommand } from "../lib/core/command.ts";
import type { Dispatcher } from "./_groups.ts";

export default defineProtocolCommand({
  meta: { name: "help" },
  args: {
    command: { type: "positional", required: false, description: "The command to explain", valueHint: "command" },
  },
  async run({ args, data }) {
    const { loadCommand, printUsage } = data as Dispatcher;
    await printUsage(args.command ? await loadCommand(args.command) : undefined);
  },
});
