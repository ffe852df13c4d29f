import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { App } from "../app/app.ts";
import { backupStamp } from "../core/backup.ts";
import { PreconditionError, UsageError } from "../core/errors.ts";
import { readRepoFile } from "../core/fs.ts";
import { trackedPaths, untrackPaths } from "../git/git.ts";
import { MAX_HASHED_BYTES } from "./hash.ts";
import { assertNoConflicts, type Backup, backUp, type LinkReport, linkConfig } from "./links.ts";
import { pointsIntoConfig } from "./plan.ts";
import type { ConfigRepo } from "./repo.ts";
import { protectSecrets } from "./secrets.ts";

export interface CopyReport {
  /** Files now in the config repo, relative paths. */
  files: string[];
  /** Already links into the config repo: nothing to do. */
  skipped: string[];
  /** Removed from the app repo's index (git rm --cached), with --untrack. */
  untracked: string[];
  backups: Backup[];
  /** mv: the links back into the app. */
  link: LinkReport | null;
}

/** The app-relative path of a user-given path; refuses paths outside the app, the app itself and .git. */
export function appRelative(appDir: string, cwd: string, input: string): string {
  const rel = relative(appDir, resolve(cwd, input)).split("\\").join("/");
  if (rel === "" || rel === ".." || rel.startsWith("../") || isAbsolute(rel))
    throw new UsageError(`${input} is not inside the app dir ${appDir}`);
  if (rel === ".git" || rel.startsWith(".git/"))
    throw new UsageError(`${input} is inside .git: that is git's, not config`);
  return rel;
}

function filesUnder(app: App, repo: ConfigRepo, rel: string, skipped: string[]): string[] {
  const full = join(app.dir, rel);
  const stat = lstatSync(full, { throwIfNoEntry: false });
  if (!stat) throw new PreconditionError(`${rel} does not exist in ${app.dir}`);
  if (stat.isSymbolicLink() && pointsIntoConfig(app.dir, repo.dir, rel, readlinkSync(full))) {
    skipped.push(rel);
    return [];
  }
  if (!stat.isDirectory()) return [rel];
  return readdirSync(full)
    .sort()
    .flatMap((name) => (name === ".git" ? [] : filesUnder(app, repo, `${rel}/${name}`, skipped)));
}

/** Whether two files hold the same bytes; a file protocol does not read (special, too big) counts as different. */
function sameContent(a: string, b: string): boolean {
  try {
    const [left, right] = [a, b].map((path) => readRepoFile(path, { cap: MAX_HASHED_BYTES }));
    return !!left && !!right && left.equals(right);
  } catch {
    return false;
  }
}

/** config:cp / config:mv: every check first (outside, .git, tracked), then copy; mv removes the originals and links back. */
export async function copyIntoConfig(
  app: App,
  repo: ConfigRepo,
  inputs: string[],
  options: { cwd: string; move: boolean; untrack: boolean },
): Promise<CopyReport> {
  const skipped: string[] = [];
  const files = [
    ...new Set(
      inputs
        .map((input) => appRelative(app.dir, options.cwd, input))
        .flatMap((rel) => filesUnder(app, repo, rel, skipped)),
    ),
  ];
  const tracked = await trackedPaths({ dir: app.dir }, files);
  if (tracked.length > 0 && !options.untrack) {
    throw new PreconditionError(
      `the app repo tracks ${tracked.join(", ")}`,
      "pass --untrack to take them out of the app repo (git rm --cached), then commit that",
    );
  }
  const report: CopyReport = { files, skipped, untracked: [], backups: [], link: null };
  const stamp = backupStamp();
  for (const file of files) {
    const source = join(app.dir, file);
    const target = join(repo.dir, file);
    if (existsSync(target) && !sameContent(source, target)) {
      report.backups.push({ path: file, backup: backUp(app, stamp, "config", file, target) });
    }
    mkdirSync(dirname(target), { recursive: true });
    rmSync(target, { force: true });
    cpSync(source, target, { verbatimSymlinks: true });
  }
  protectSecrets(repo.dir, files);
  if (tracked.length > 0) {
    await untrackPaths({ dir: app.dir }, tracked);
    report.untracked = tracked;
  }
  if (options.move && files.length > 0) {
    for (const file of files) rmSync(join(app.dir, file), { force: true });
    report.link = await linkConfig(app, repo, { only: files });
    assertNoConflicts(report.link.plan);
  }
  return report;
}
