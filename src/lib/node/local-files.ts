/**
 * Files that exist only on the node (untracked or git-ignored, like a node-local `.env`) are work
 * too: a move must never overwrite or delete them. git's own checks do not help here: a
 * fast-forward refuses an untracked file in the way, but only after touching the working copy, and
 * `reset --hard` overwrites it without a word.
 */
import { lstatSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { App } from "../app/app.ts";
import { backupStamp, backupTree } from "../core/backup.ts";
import { type GitContext, gitOutput } from "../git/git.ts";

/** The paths a commit adds, relative to the working copy: every file of it for a first checkout. */
async function addedPaths(ctx: GitContext, from: string | null, to: string): Promise<string[]> {
  const args = from
    ? ["diff", "--name-only", "-z", "--no-renames", "--diff-filter=A", from, to]
    : ["ls-tree", "-r", "-z", "--name-only", to];
  return (await gitOutput(ctx, args)).split("\0").filter(Boolean);
}

/** `path`, or the first of its parent dirs that is something else than a directory; null when nothing is there. */
function occupant(dir: string, path: string): string | null {
  const parts = path.split("/");
  for (let depth = 1; depth <= parts.length; depth++) {
    const prefix = parts.slice(0, depth).join("/");
    const stat = lstatSync(join(dir, prefix), { throwIfNoEntry: false });
    if (!stat) return null;
    if (depth === parts.length || !stat.isDirectory()) return prefix;
  }
  return null;
}

/** Node-local files (or dirs) that moving from `from` to `to` would overwrite, sorted. Reads only. */
export async function localFilesInTheWay(ctx: GitContext, from: string | null, to: string): Promise<string[]> {
  const found = new Set<string>();
  for (const path of await addedPaths(ctx, from, to)) {
    const taken = occupant(ctx.dir, path);
    if (taken) found.add(taken);
  }
  return [...found].sort();
}

/** Move node-local files out of the way into the app's backups (`<state>/…/backups/<time>/local/`); returns that dir. */
export function moveAsideLocalFiles(app: App, paths: readonly string[]): string {
  const stamp = backupStamp();
  for (const path of paths) {
    backupTree(app.paths.backups, stamp, join("local", path), join(app.dir, path));
    rmSync(join(app.dir, path), { recursive: true, force: true });
  }
  return join(app.paths.backups, stamp, "local");
}
