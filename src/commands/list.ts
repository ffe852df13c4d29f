import { defineProtocolCommand } from "../lib/core/command.ts";
import { printJson, printLines } from "../lib/core/output.ts";
import { jsonArgs } from "./_args.ts";
import type { Dispatcher } from "./_groups.ts";

export default defineProtocolCommand({
  meta: { name: "list" },
  args: { ...jsonArgs },
  run({ args, data }) {
    const { groupCommands, renderCommandGroups } = data as Dispatcher;
    const groups = groupCommands();
    if (!args.json) return printLines(renderCommandGroups(groups));
    printJson(groups.flatMap((group) => group.commands.map((command) => ({ ...command, group: group.title }))));
  },
});
