import { loadApp } from "../../lib/app/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { stopConfigSlave } from "../../lib/node/config-slave.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:slave:stop" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const app = loadApp(args.dir);
    const stopped = await stopConfigSlave(app);
    if (args.json) return printJson({ dir: app.dir, ...stopped });
    log.success(
      stopped.kept
        ? `the app's loop (pid ${stopped.kept}) no longer follows the config repo; it goes on following the app`
        : stopped.pid
          ? `config slave mode stopped (pid ${stopped.pid})`
          : `config slave mode was not running for ${app.dir}`,
    );
  },
});
