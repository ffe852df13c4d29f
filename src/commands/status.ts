import { defineProtocolCommand } from "../lib/core/command.ts";
import { printJson, printLines } from "../lib/core/output.ts";
import { loadApp } from "../lib/node/app.ts";
import { readNodeStatus, renderStatus } from "../lib/node/status.ts";
import { dirArgs, jsonArgs } from "./_args.ts";

export default defineProtocolCommand({
  meta: { name: "status" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const status = await readNodeStatus(loadApp(args.dir));
    args.json ? printJson(status) : printLines(renderStatus(status));
  },
});
