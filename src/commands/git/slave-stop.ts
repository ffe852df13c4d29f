import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { loadApp } from "../../lib/app/app.ts";
import { stopSlave } from "../../lib/node/daemon.ts";
import { stopGitUnit } from "../../lib/node/supervisor.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "git:slave:stop" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const app = loadApp(args.dir);
    // Under systemd, a signalled loop would be started again: systemd stops it.
    const unit = await stopGitUnit(app);
    const stopped = await stopSlave(app);
    if (args.json) return printJson({ dir: app.dir, ...stopped, unit });
    if (unit)
      return log.success(`slave mode stopped (systemctl stop ${unit}; protocol start or a reboot brings it back)`);
    log.success(stopped.pid ? `slave mode stopped (pid ${stopped.pid})` : `slave mode was not running for ${app.dir}`);
  },
});
