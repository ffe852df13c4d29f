import { log } from "./log.ts";
import type { StartReport } from "./node.ts";
import { renderSyncOutcome } from "./sync-report.ts";

export function renderStartReport(report: StartReport): void {
  renderSyncOutcome(report.sync);
  if (report.sync.error) {
    log.warn(`the node runs, but its first sync says ${report.sync.result}: ${report.sync.error}${report.sync.hint ? ` (${report.sync.hint})` : ""}`);
  }
  log.success(
    report.slave.alreadyRunning
      ? `slave mode already running for ${report.dir} (pid ${report.slave.pid})`
      : `slave mode started for ${report.dir} (pid ${report.slave.pid})`,
  );
  if (report.cron?.changed) log.info(`@reboot line added to the crontab (previous crontab saved to ${report.cron.backup})`);
}
