import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand } from "../../lib/command.ts";
import { stopConfigSlave } from "../../lib/config/slave.ts";
import { log } from "../../lib/log.ts";
import { printJson } from "../../lib/output.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:slave:stop", description: "Stop config slave mode for the app (waits for the current step to finish)" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const app = loadApp(args.dir);
    const stopped = await stopConfigSlave(app);
    if (args.json) return printJson({ dir: app.dir, ...stopped });
    log.success(stopped.pid ? `config slave mode stopped (pid ${stopped.pid})` : `config slave mode was not running for ${app.dir}`);
  },
});
