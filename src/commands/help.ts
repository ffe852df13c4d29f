import { defineProtocolCommand } from "../lib/command.ts";
import { loadCommand, printUsage, root } from "../lib/main.ts";

export default defineProtocolCommand({
  meta: { name: "help", description: "Show help for a command (or the list of commands)" },
  args: {
    command: { type: "positional", required: false, description: "The command to explain", valueHint: "command" },
  },
  async run({ args }) {
    await (args.command ? printUsage(await loadCommand(args.command), root) : printUsage(root));
  },
});
