import {
  cpSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { App } from "../app/app.ts";
import { backupStamp, backupTree } from "../core/backup.ts";
import { PreconditionError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { type GitContext, trackedPaths } from "../git/git.ts";
import { locateIgnoreFile, readOwnedPaths, writeIgnoreBlock } from "./ignore.ts";
import {
  conflictHint,
  type LinkConflict,
  type LinkPlan,
  parentPaths,
  planLinks,
  pointsIntoConfig,
  type TargetState,
} from "./plan.ts";
import { type ConfigRepo, type ConfigScan, listSources, scanConfigRepo } from "./repo.ts";
import { protectSecrets } from "./secrets.ts";

export interface LinkOptions {
  resolve?: "none" | "adopt" | "force";
  prune?: boolean;
  dryRun?: boolean;
  /** Plan only these sources (config:mv links back what it moved, nothing else). */
  only?: readonly string[];
  /** Plan against this scan instead of the config repo's working tree (an incoming commit: scanConfigTree). */
  tree?: ConfigScan;
  /**
   * Link the rest when the config repo holds entries protocol refuses (a link out of it, a special
   * file): they stay unlinked and are reported (start, the loop), instead of stopping every link.
   */
  skipRefused?: boolean;
}

export interface Backup {
  path: string;
  backup: string;
}

export interface LinkReport {
  configDir: string;
  ignoreFile: string;
  plan: LinkPlan;
  applied: boolean;
  backups: Backup[];
  /** Secret files set to 0600. */
  protected: string[];
}

/** What is at each app path, without following links. */
export function snapshotTargets(appDir: string, paths: Iterable<string>): Record<string, TargetState> {
  const targets: Record<string, TargetState> = {};
  for (const path of paths) {
    const stat = lstatSync(join(appDir, path), { throwIfNoEntry: false });
    if (!stat) targets[path] = { kind: "missing" };
    else if (stat.isSymbolicLink()) targets[path] = { kind: "link", value: readlinkSync(join(appDir, path)) };
    else targets[path] = { kind: stat.isDirectory() ? "dir" : "file" };
  }
  return targets;
}

const appContext = (app: App): GitContext => ({ dir: app.dir });

/** Build the whole plan; nothing on disk changes. */
export async function planConfigLinks(
  app: App,
  repo: ConfigRepo,
  options: LinkOptions = {},
): Promise<{ plan: LinkPlan; ignoreFile: string }> {
  const scan = options.tree ?? scanConfigRepo(repo.dir);
  const all = scan.files;
  const only = options.only ? new Set(options.only) : null;
  const sources = only ? all.filter((path) => only.has(path)) : [...all];
  const previouslyOwned = await readOwnedPaths(app.dir, appContext(app));
  const owned = only ? previouslyOwned.filter((path) => only.has(path)) : previouslyOwned;
  const paths = new Set([...sources, ...sources.flatMap(parentPaths), ...owned]);
  const plan = planLinks({
    appDir: app.dir,
    configDir: repo.dir,
    sources,
    targets: snapshotTargets(app.dir, paths),
    tracked: await trackedPaths(appContext(app), sources),
    owned,
    prune: options.prune,
    resolve: options.resolve,
  });
  if (only) plan.owned = [...new Set([...previouslyOwned, ...plan.owned])].sort();
  // Refused whatever --force or --adopt say: a link out of the config repo, or a special file.
  for (const refused of scan.refused) plan.conflicts.push({ kind: "refused", ...refused });
  const ignore = await locateIgnoreFile(appContext(app));
  return { plan, ignoreFile: ignore.path };
}

/** The entries of the config repo protocol refuses to link (links out of it, special files). */
export function refusedEntries(plan: LinkPlan): LinkConflict[] {
  return plan.conflicts.filter((c) => c.kind === "refused");
}

/** The conflicts that stop the links: all of them, or with `skipRefused` all but the refused entries. */
function blocking(plan: LinkPlan, options: Pick<LinkOptions, "skipRefused">): LinkConflict[] {
  return options.skipRefused ? plan.conflicts.filter((c) => c.kind !== "refused") : plan.conflicts;
}

/** Every conflict in one error: exit code 4, nothing changed. */
export function assertNoConflicts(plan: LinkPlan, options: Pick<LinkOptions, "skipRefused"> = {}): void {
  const conflicts = blocking(plan, options);
  if (conflicts.length === 0) return;
  const list = conflicts.map((c) => `${c.path} ${c.detail}`).join("; ");
  throw new PreconditionError(
    `cannot link the config: ${conflicts.length} conflict(s): ${list}`,
    conflictHint(conflicts),
  );
}

/** start and the loop link the rest: each refused entry said once, with what to do. */
export function warnRefused(plan: LinkPlan): void {
  for (const refused of refusedEntries(plan))
    log.warn(
      `config: ${refused.path} ${refused.detail}; the rest is linked (make it a regular file in the config repo and push it: slave mode links it)`,
    );
}

/** Keep `full` (file, dir or link, as is) under the app's backups dir, by side; the returned path is printed. */
export function backUp(app: App, stamp: string, side: "app" | "config", path: string, full: string): string {
  return backupTree(app.paths.backups, stamp, join(side, path), full);
}

function placeLink(app: App, path: string, link: string): void {
  const full = join(app.dir, path);
  mkdirSync(dirname(full), { recursive: true });
  rmSync(full, { force: true });
  symlinkSync(link, full);
}

/** Remove now-empty dirs above a removed link, up to (not including) the app dir. */
function removeEmptyParents(appDir: string, path: string): void {
  for (const parent of parentPaths(path).reverse()) {
    const full = join(appDir, parent);
    try {
      if (readdirSync(full).length > 0) return;
      rmdirSync(full);
    } catch {
      return;
    }
  }
}

/** Plan first, act second: with any conflict nothing changes (the report says why, or it throws). */
export async function linkConfig(app: App, repo: ConfigRepo, options: LinkOptions = {}): Promise<LinkReport> {
  const { plan, ignoreFile } = await planConfigLinks(app, repo, options);
  const report: LinkReport = { configDir: repo.dir, ignoreFile, plan, applied: false, backups: [], protected: [] };
  if (options.dryRun || blocking(plan, options).length > 0) return report;
  const stamp = backupStamp();
  for (const action of plan.actions) {
    const appFile = join(app.dir, action.path);
    const configFile = join(repo.dir, action.path);
    if (action.kind === "remove") {
      unlinkSync(appFile);
      removeEmptyParents(app.dir, action.path);
      continue;
    }
    if (action.kind === "force")
      report.backups.push({ path: action.path, backup: backUp(app, stamp, "app", action.path, appFile) });
    if (action.kind === "adopt") {
      if (lstatSync(configFile, { throwIfNoEntry: false }))
        report.backups.push({ path: action.path, backup: backUp(app, stamp, "config", action.path, configFile) });
      report.backups.push({ path: action.path, backup: backUp(app, stamp, "app", action.path, appFile) });
      cpSync(appFile, configFile, { force: true });
    }
    if (action.kind !== "keep" && action.link) placeLink(app, action.path, action.link);
  }
  report.protected = protectSecrets(
    repo.dir,
    plan.actions.filter((a) => a.kind !== "remove").map((a) => a.path),
  );
  writeIgnoreBlock(await locateIgnoreFile(appContext(app)), plan.owned);
  report.applied = true;
  return report;
}

export interface UnlinkReport {
  removed: string[];
  /** Paths left alone: real files or links that point elsewhere. */
  skipped: string[];
}

/** Remove the links that point into the config repo, and the ignore block; nothing else. */
export async function unlinkConfig(
  app: App,
  repo: ConfigRepo,
  options: { dryRun?: boolean } = {},
): Promise<UnlinkReport> {
  const owned = await readOwnedPaths(app.dir, appContext(app));
  const candidates = [...new Set([...listSources(repo.dir), ...owned])].sort();
  const targets = snapshotTargets(app.dir, candidates);
  const report: UnlinkReport = { removed: [], skipped: [] };
  for (const path of candidates) {
    const state = targets[path];
    if (!state || state.kind === "missing") continue;
    const ours = state.kind === "link" && pointsIntoConfig(app.dir, repo.dir, path, state.value);
    (ours ? report.removed : report.skipped).push(path);
    if (ours && !options.dryRun) {
      unlinkSync(join(app.dir, path));
      removeEmptyParents(app.dir, path);
    }
  }
  if (!options.dryRun) {
    writeIgnoreBlock(await locateIgnoreFile(appContext(app)), []);
  }
  return report;
}
