import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "./fs.ts";

/**
 * Everything protocol moves aside before overwriting it is kept under one naming scheme, stamped
 * with the time of the change:
 * - one file: `<dir>/<name>.bak-<stamp>` (beside it, or in the state dir for files in the app);
 * - several files moved aside by one change: `<root>/<stamp>/<path>`, kept together;
 * - a commit: `refs/protocol/backup/[<kind>-]<stamp>`.
 */

/** The time in every backup's name: sortable, and valid in a file name and a git ref. */
export function backupStamp(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, "-");
}

function backupName(into: string, name: string): string {
  mkdirSync(into, { recursive: true, mode: 0o700 });
  return join(into, `${name}.bak-${backupStamp()}`);
}

/** Copy a file to `<into>/<name>.bak-<stamp>` before it is overwritten; null when there is nothing to keep. */
export function backupFile(path: string, into = dirname(path)): string | null {
  if (!existsSync(path)) return null;
  const target = backupName(into, basename(path));
  copyFileSync(path, target);
  return target;
}

/** Keep text that protocol replaces through another program (the crontab) as `<into>/<name>.bak-<stamp>`, the last `keep` of them. */
export function backupText(into: string, name: string, text: string, keep: number): string {
  const target = backupName(into, name);
  writeFileAtomic(target, text, 0o600);
  const old = readdirSync(into)
    .filter((file) => file.startsWith(`${name}.bak-`))
    .sort()
    .slice(0, -keep);
  for (const file of old) unlinkSync(join(into, file));
  return target;
}

/** Copy a file, dir or link (as it is) to `<root>/<stamp>/<path>`; the returned path is printed. */
export function backupTree(root: string, stamp: string, path: string, source: string): string {
  const target = join(root, stamp, path);
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  cpSync(source, target, { recursive: true, verbatimSymlinks: true });
  return target;
}

/** The ref that keeps a commit protocol moves a branch away from (local commits, a rollback). */
export function backupRef(kind?: string): string {
  return `refs/protocol/backup/${kind ? `${kind}-` : ""}${backupStamp()}`;
}
