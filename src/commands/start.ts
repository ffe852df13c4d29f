import { loadApp } from "../lib/app/app.ts";
import { parseChoice } from "../lib/core/argv.ts";
import { defineProtocolCommand } from "../lib/core/command.ts";
import { printJson } from "../lib/core/output.ts";
import { startNode } from "../lib/node/lifecycle.ts";
import { resumeFollowing } from "../lib/node/manual-rollback.ts";
import { renderStartReport } from "../lib/node/start-report.ts";
import { dirArgs, intervalArgs, jsonArgs, policyArgs, readInterval, readPolicies, supervisorArgs } from "./_args.ts";

export default defineProtocolCommand({
  meta: { name: "start" },
  args: {
    env: {
      type: "positional",
      required: false,
      description: "This machine's environment (recorded; localhost, dev… leave git alone)",
      valueHint: "env",
    },
    ...dirArgs,
    ...intervalArgs,
    ...policyArgs,
    ...jsonArgs,
    cron: { type: "boolean", default: true, description: "Skip adding the @reboot crontab line" },
    ...supervisorArgs,
    start: {
      type: "boolean",
      default: true,
      description:
        "With --supervisor systemd, --no-start writes and enables the units and starts nothing: an image build, no running systemd needed",
    },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    resumeFollowing(app);
    const report = await startNode(app, {
      intervalSeconds: readInterval(args),
      ...readPolicies(args),
      cron: args.cron !== false,
      start: "start",
      env: args.env,
      supervisor: args.supervisor
        ? parseChoice("supervisor", args.supervisor, supervisorArgs.supervisor.choices, "cron")
        : undefined,
      noStart: args.start === false,
    });
    if (args.json) return printJson(report);
    renderStartReport(report);
  },
});
