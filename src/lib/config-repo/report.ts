import { log } from "../core/log.ts";
import { printJson, printLines } from "../core/output.ts";
import type { CopyReport } from "./files.ts";
import { assertNoConflicts, type LinkReport } from "./links.ts";
import { changes } from "./plan.ts";

const VERBS = {
  create: "link",
  keep: "keep",
  relink: "relink",
  adopt: "adopt",
  force: "replace",
  remove: "remove stale link",
} as const;

/** The plan as lines for --dry-run: one action or conflict per line. */
export function renderLinkPlan(report: LinkReport): string[] {
  return [
    ...report.plan.actions.map((a) => `${VERBS[a.kind].padEnd(17)} ${a.path}${a.link ? ` -> ${a.link}` : ""}`),
    ...report.plan.conflicts.map((c) => `${"conflict".padEnd(17)} ${c.path} ${c.detail}`),
  ];
}

export function logLinkReport(report: LinkReport): void {
  const changed = changes(report.plan);
  const kept = report.plan.actions.length - changed.length;
  log.success(
    `${changed.length} link change(s) from ${report.configDir}${kept ? `, ${kept} already linked` : ""}; ignored in ${report.ignoreFile}`,
  );
  for (const backup of report.backups) log.info(`backup of ${backup.path}: ${backup.backup}`);
  if (report.protected.length) log.info(`mode 0600 set on ${report.protected.join(", ")}`);
}

/** config:link and config:refresh: the plan (with --dry-run or a conflict) or the JSON, then exit 4 on a conflict. */
export function showLinkReport(report: LinkReport, options: { json?: boolean; dryRun?: boolean }): void {
  if (options.json) printJson(report);
  else if (options.dryRun || !report.applied) printLines(renderLinkPlan(report));
  assertNoConflicts(report.plan);
  if (!options.json && report.applied) logLinkReport(report);
}

export function renderCopyReport(report: CopyReport, verb: "copied" | "moved"): void {
  log.success(
    `${verb} ${report.files.length} file(s) into the config repo${report.files.length ? `: ${report.files.join(", ")}` : ""}`,
  );
  if (report.skipped.length) log.info(`already linked from the config repo: ${report.skipped.join(", ")}`);
  if (report.untracked.length)
    log.info(
      `removed from the app repo's index (git rm --cached): ${report.untracked.join(", ")}; commit that in the app`,
    );
  for (const backup of report.backups) log.info(`backup of the config repo's ${backup.path}: ${backup.backup}`);
  if (report.link) logLinkReport(report.link);
  log.info("save them with protocol config:save");
}
