import { defineProtocolCommand } from "../lib/command.ts";
import { printJson, printLines, renderTable } from "../lib/output.ts";
import { commands } from "./index.ts";
import { jsonArgs } from "./_args.ts";

export default defineProtocolCommand({
  meta: { name: "list", description: "List the commands" },
  args: { ...jsonArgs },
  async run({ args }) {
    const rows = await Promise.all(
      Object.entries(commands).map(async ([name, load]) => {
        const meta = (await load()).meta;
        const resolved = typeof meta === "function" ? await meta() : await meta;
        return { name, description: resolved?.description ?? "" };
      }),
    );
    args.json ? printJson(rows) : printLines(renderTable(rows.map((r) => [r.name, r.description])));
  },
});
