import { loadApp } from "../../lib/app/app.ts";
import { readConfigStatus, renderConfigStatus } from "../../lib/config-repo/status.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { printJson, printLines } from "../../lib/core/output.ts";
import { readConfigSlave } from "../../lib/node/config-slave.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:status" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const app = loadApp(args.dir);
    const status = await readConfigStatus(app, readConfigSlave(app));
    args.json ? printJson(status) : printLines(renderConfigStatus(status));
  },
});
