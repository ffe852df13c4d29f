import { loadApp } from "../../lib/app/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { dropPart } from "../../lib/node/follow.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "git:slave:stop" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const app = loadApp(args.dir);
    // The app's one loop stops following its remote; it goes on for the config repo when it follows one.
    const { unit, ...stopped } = await dropPart(app, "app");
    if (args.json) return printJson({ dir: app.dir, ...stopped, unit });
    if (stopped.kept)
      return log.success(
        `slave mode (pid ${stopped.kept}) no longer follows the app; it goes on following the config repo`,
      );
    if (unit)
      return log.success(`slave mode stopped (systemctl stop ${unit}; protocol start or a reboot brings it back)`);
    log.success(stopped.pid ? `slave mode stopped (pid ${stopped.pid})` : `slave mode was not running for ${app.dir}`);
  },
});
