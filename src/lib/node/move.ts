/**
 * Moving the working copy, once every check has passed: keep what is in the way (stash, node-local
 * files, backup ref), then fast-forward or reset. Everything kept is named in the log and returned.
 */

import type { App } from "../app/app.ts";
import { backupRef } from "../core/backup.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import { type GitContext, gitDir, mergeFastForward, resetHard, stashChanges, updateRef } from "../git/git.ts";
import { clearStaleIndexLock } from "../git/leftovers.ts";
import { beginMove, endMove, pauseForTests } from "./journal.ts";
import { moveAsideLocalFiles } from "./local-files.ts";

export interface Move {
  from: string | null;
  to: string;
  /** "origin/main", for the log. */
  upstream: string;
  /** Uncommitted changes to stash first (--on-dirty=stash). */
  stash: boolean;
  /** Node-local files in the way, to move into the backups first (--on-dirty=stash). */
  localFiles: readonly string[];
  /** Reset instead of fast-forward: local commits (--on-diverged=reset), or the remote's own rewind. */
  reset: boolean;
  follow: "rewind" | "rewrite" | null;
}

/** Returns what was kept aside: "stash <sha>", a backups dir, a backup ref. */
export async function moveWorkingCopy(app: App, ctx: GitContext, move: Move): Promise<string[]> {
  const dotGit = await gitDir(ctx);
  clearStaleIndexLock(dotGit, app.dir);
  // Recorded before anything is touched: a move cut short from here on is finished by recover.ts.
  beginMove(dotGit, { from: move.from, to: move.to, kind: move.reset ? "reset" : "fast-forward" });
  await pauseForTests("move-journaled");
  const kept: string[] = [];
  if (move.stash) {
    const stash = await stashChanges(ctx, `protocol: local changes before ${shortSha(move.to)}`);
    kept.push(`stash ${stash}`);
    log.warn(`uncommitted changes moved aside: stash ${stash} (git stash list; git stash apply ${shortSha(stash)})`);
  }
  if (move.localFiles.length > 0) {
    const dir = moveAsideLocalFiles(app, move.localFiles);
    kept.push(dir);
    log.warn(`files that exist only on this node moved aside to ${dir}: ${move.localFiles.join(", ")}`);
  }
  if (move.reset && move.from) {
    const ref = backupRef(move.follow ?? undefined);
    await updateRef(ctx, ref, move.from);
    await resetHard(ctx, move.to);
    kept.push(ref);
    if (move.follow) {
      const how = move.follow === "rewind" ? "rewound" : "rewritten";
      log.warn(`${move.upstream} was ${how}: following it; ${shortSha(move.from)} is kept as ${ref}`);
    } else {
      log.warn(`local commits kept as ${ref} (${shortSha(move.from)}); the working copy now matches ${move.upstream}`);
    }
  } else {
    await mergeFastForward(ctx, move.to);
  }
  endMove(dotGit);
  log.info(`moved ${shortSha(move.from)} → ${shortSha(move.to)}`);
  return kept;
}
