import { log } from "../core/log.ts";
import type { StartReport } from "./lifecycle.ts";
import { renderSyncOutcome } from "./sync-report.ts";

export function renderStartReport(report: StartReport): void {
  if (!report.sync) {
    // --no-start: the units for an image, nothing run.
    if (report.config.link) log.info(`config ${report.config.branch ?? "?"} linked from ${report.config.dir}`);
    const units = report.units ?? [];
    log.success(
      units.length > 0
        ? `systemd units written and enabled for ${report.dir}, nothing started: systemd starts the loops at the next boot (${units.map((u) => u.path).join(", ")})`
        : `development environment ${report.config.env}: no loops, so no units to write`,
    );
    return;
  }
  renderSyncOutcome(report.sync);
  // A commit waiting for the node's rollout wave was said by renderSyncOutcome: the loop deploys it.
  if (report.sync.error && report.sync.result !== "waiting") {
    log.warn(
      `the node runs, but its first sync says ${report.sync.result}: ${report.sync.error}${report.sync.hint ? ` (${report.sync.hint})` : ""}`,
    );
  }
  if (report.config.link)
    log.info(
      `config ${report.config.branch ?? "?"} linked from ${report.config.dir} (${report.config.link.plan.owned.length} file(s))`,
    );
  if (!report.slave) log.info(`development environment ${report.config.env}: git left alone, no slave mode`);
  else if (report.units) {
    const written = report.units.filter((unit) => unit.written).map((unit) => unit.path);
    log.success(
      `slave mode supervised by systemd for ${report.dir} (pid ${report.slave.pid}; ${report.units.map((u) => u.name).join(", ")})`,
    );
    if (written.length > 0) log.info(`wrote ${written.join(", ")}`);
  } else {
    log.success(
      report.slave.alreadyRunning
        ? `slave mode already running for ${report.dir} (pid ${report.slave.pid})`
        : `slave mode started for ${report.dir} (pid ${report.slave.pid})`,
    );
  }
  if (report.configSlave)
    log.success(
      `config slave mode ${report.configSlave.alreadyRunning ? "already running" : "started"} (pid ${report.configSlave.pid})`,
    );
  if (report.cron?.changed)
    log.info(
      `@reboot line ${report.supervisor === "systemd" ? "removed from" : "added to"} the crontab (previous crontab saved to ${report.cron.backup})`,
    );
}
