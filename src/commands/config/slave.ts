import { loadApp } from "../../lib/app/app.ts";
import { assertOwnConfigDir } from "../../lib/config-repo/owner.ts";
import { openConfigRepo } from "../../lib/config-repo/repo.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { startConfigSlave } from "../../lib/node/config-slave.ts";
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
    // One loop per app: `config:slave --foreground` (an older protocol's systemd unit) runs that loop.
    if (args.foreground) {
      const { runSlaveLoop } = await import("../../lib/node/slave.ts");
      return runSlaveLoop(app, { intervalSeconds, onDirty: "refuse", onDiverged: "refuse" });
    }
    assertOwnConfigDir(app);
    const { slaveFlags } = await import("../../lib/node/lifecycle.ts");
    const started = await startConfigSlave(
      app,
      slaveFlags({ intervalSeconds, onDirty: "refuse", onDiverged: "refuse" }),
    );
    if (args.json) return printJson({ dir: app.dir, ...started, log: app.paths.log });
    log.success(
      started.alreadyRunning
        ? `the app's loop (pid ${started.pid}) follows the config repo now`
        : `slave mode started for the config repo of ${app.dir} (pid ${started.pid}); log: ${app.paths.log}`,
    );
  },
});
