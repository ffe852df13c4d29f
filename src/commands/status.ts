import { loadApp } from "../lib/app.ts";
import { defineProtocolCommand } from "../lib/command.ts";
import { printJson, printLines } from "../lib/output.ts";
import { readNodeStatus, renderStatus } from "../lib/status.ts";
import { dirArgs, jsonArgs } from "./_args.ts";

export default defineProtocolCommand({
  meta: { name: "status", description: "Show the node at a glance: local vs remote commit, slave mode, last sync" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const status = await readNodeStatus(loadApp(args.dir));
    args.json ? printJson(status) : printLines(renderStatus(status));
  },
});
