import { resolve } from "node:path";
import { loadApp } from "../lib/app/app.ts";
import { captureLoopEnv, loopEnvOverlay } from "../lib/app/loop-env.ts";
import { listRegistrations, readRegistration, unreadableRegistrations } from "../lib/app/state.ts";
import { defineProtocolCommand } from "../lib/core/command.ts";
import { PreconditionError } from "../lib/core/errors.ts";
import { log } from "../lib/core/log.ts";
import { withNodeEnv } from "../lib/core/node-env.ts";
import { printJson } from "../lib/core/output.ts";
import { appPaths } from "../lib/core/paths.ts";
import { reportError } from "../lib/core/report-error.ts";
import { startNode } from "../lib/node/lifecycle.ts";
import { renderStartReport } from "../lib/node/start-report.ts";
import { jsonArgs } from "./_args.ts";

export default defineProtocolCommand({
  meta: { name: "restart" },
  args: {
    dirs: {
      type: "positional",
      required: false,
      description: "App directories (default: every node started on this machine)",
      valueHint: "dir…",
    },
    ...jsonArgs,
  },
  async run({ args }) {
    const dirs =
      args._.length > 0
        ? args._.map((dir) => resolve(dir))
        : listRegistrations()
            .filter((r) => r.enabled)
            .map((r) => r.dir);
    const torn = args._.length > 0 ? [] : unreadableRegistrations();
    if (dirs.length === 0 && torn.length === 0)
      log.info("no nodes registered on this machine (protocol start registers one)");
    const reports = [];
    let failed = 0;
    const own = captureLoopEnv();
    for (const path of torn) {
      failed++;
      process.exitCode = reportError(
        new PreconditionError(
          `the registration ${path} cannot be read, so its node was not started`,
          "run protocol start in that app's dir again (it rewrites the file)",
        ),
      );
    }
    for (const dir of dirs) {
      try {
        const saved = readRegistration(appPaths(resolve(dir)).registration);
        // Cron's environment is nearly empty: the node runs with the one start recorded (an
        // older registration without one: with this process's own), handed to its spawns, not
        // written into process.env.
        const report = await withNodeEnv(loopEnvOverlay(saved?.loopEnv ?? own), () =>
          startNode(loadApp(dir), {
            intervalSeconds: saved?.interval,
            onDirty: saved?.onDirty ?? "refuse",
            onDiverged: saved?.onDiverged ?? "refuse",
            cron: false,
            start: "restart",
          }),
        );
        reports.push(report);
        if (!args.json) renderStartReport(report);
      } catch (error) {
        failed++;
        log.error(`${dir}:`);
        process.exitCode = reportError(error);
      }
    }
    if (args.json) printJson(reports);
    if (failed > 0) log.warn(`${failed} of ${dirs.length + torn.length} node(s) failed to restart`);
  },
});
