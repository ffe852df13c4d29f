import { runConfigSlaveLoop } from "../../lib/node/config-loop.ts";
import { openConfigRepo } from "../../lib/config-repo/repo.ts";
import { startConfigSlave } from "../../lib/node/config-slave.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { loadApp } from "../../lib/app/app.ts";
import { dirArgs, intervalArgs, jsonArgs, readInterval } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:slave" },
  args: {
    ...dirArgs,
    ...intervalArgs,
    ...jsonArgs,
    foreground: { type: "boolean", description: "Stay attached (systemd, containers); stop with SIGTERM or Ctrl-C" },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    openConfigRepo(app);
    const intervalSeconds = readInterval(args);
    if (args.foreground) return runConfigSlaveLoop(app, { intervalSeconds });
    const started = await startConfigSlave(app, intervalSeconds);
    if (args.json) return printJson({ dir: app.dir, ...started, log: app.paths.configLog });
    if (started.alreadyRunning) log.info(`config slave mode is already running for ${app.dir} (pid ${started.pid})`);
    else log.success(`config slave mode started for ${app.dir} (pid ${started.pid}); log: ${app.paths.configLog}`);
  },
});
