import { defineProtocolCommand } from "../lib/core/command.ts";
import { printJson, printLines, renderTable } from "../lib/core/output.ts";
import type { Dispatcher } from "../main.ts";
import { jsonArgs } from "./_args.ts";

export default defineProtocolCommand({
  meta: { name: "list" },
  args: { ...jsonArgs },
  run({ args, data }) {
    const { commands } = data as Dispatcher;
    const rows = Object.entries(commands).map(([name, entry]) => ({ name, description: entry.description }));
    args.json ? printJson(rows) : printLines(renderTable(rows.map((r) => [r.name, r.description])));
  },
});
