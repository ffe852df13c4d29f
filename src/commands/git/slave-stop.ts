import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { loadApp } from "../../lib/node/app.ts";
import { stopSlave } from "../../lib/node/daemon.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "git:slave:stop" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const app = loadApp(args.dir);
    const stopped = await stopSlave(app);
    if (args.json) return printJson({ dir: app.dir, ...stopped });
    log.success(stopped.pid ? `slave mode stopped (pid ${stopped.pid})` : `slave mode was not running for ${app.dir}`);
  },
});
