import { loadApp } from "../lib/app/app.ts";
import { defineProtocolCommand } from "../lib/core/command.ts";
import { log } from "../lib/core/log.ts";
import { printJson } from "../lib/core/output.ts";
import { stopNode } from "../lib/node/lifecycle.ts";
import { dirArgs, jsonArgs } from "./_args.ts";

export default defineProtocolCommand({
  meta: { name: "stop" },
  args: {
    ...dirArgs,
    ...jsonArgs,
    down: { type: "boolean", description: "Also stop the containers (docker compose down)" },
  },
  async run({ args }) {
    const report = await stopNode(loadApp(args.dir), { down: Boolean(args.down) });
    if (args.json) return printJson(report);
    log.success(
      report.slave.pid
        ? `slave mode stopped (pid ${report.slave.pid})`
        : `slave mode was not running for ${report.dir}`,
    );
    if (report.configSlave.pid) log.success(`config slave mode stopped (pid ${report.configSlave.pid})`);
    if (report.cron?.changed) log.info(`@reboot line removed (previous crontab saved to ${report.cron.backup})`);
    if (report.down) log.success("containers stopped (docker compose down)");
  },
});
