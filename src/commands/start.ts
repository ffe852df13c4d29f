import { loadApp } from "../lib/app.ts";
import { defineProtocolCommand } from "../lib/command.ts";
import { log } from "../lib/log.ts";
import { startNode } from "../lib/node.ts";
import { printJson } from "../lib/output.ts";
import { renderStartReport } from "../lib/start-report.ts";
import { dirArgs, intervalArgs, jsonArgs, policyArgs, readInterval, readPolicies } from "./_args.ts";

export default defineProtocolCommand({
  meta: { name: "start", description: "Bring the node up: sync now, deploy, start slave mode in the background, add the @reboot line" },
  args: {
    ...dirArgs,
    ...intervalArgs,
    ...policyArgs,
    ...jsonArgs,
    cron: { type: "boolean", default: true, description: "Add the @reboot crontab line; --no-cron skips it" },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    const report = await startNode(app, { intervalSeconds: readInterval(args), ...readPolicies(args), cron: args.cron !== false });
    if (args.json) return printJson(report);
    renderStartReport(report);
    if (report.sync.error) log.warn(`the node runs, but its last sync says ${report.sync.result}; see protocol status`);
  },
});
