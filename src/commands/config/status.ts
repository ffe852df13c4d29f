import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand } from "../../lib/command.ts";
import { readConfigStatus, renderConfigStatus } from "../../lib/config/status.ts";
import { printJson, printLines } from "../../lib/output.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:status", description: "Show the config repo: env, links (missing, broken), files edited on this box" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const status = await readConfigStatus(loadApp(args.dir));
    args.json ? printJson(status) : printLines(renderConfigStatus(status));
  },
});
