/**
 * Finishing a move that was cut short (journal.ts has the record). Every path that differs is checked
 * against the content the move came from (A) and the content it was going to (B): a path that
 * matches one of them is protocol's own half-written file; one that matches neither is real local
 * work and is kept in the backups before the move is completed with a reset to B.
 */
import { lstatSync } from "node:fs";
import { join } from "node:path";
import type { App } from "../app/app.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import { type GitContext, gitOutput, resetHard } from "../git/git.ts";
import { removeIndexLockOfCrashedMove } from "../git/leftovers.ts";
import { parseLsTreeZ, parseStatusZ } from "../git/parse.ts";
import { endMove, readMove } from "./journal.ts";
import { moveAsideLocalFiles } from "./local-files.ts";

export interface Recovery {
  at: string;
  from: string | null;
  to: string;
  /** Paths that differed and were protocol's own (finished by the reset). */
  finished: number;
  /** Where the local work found in the way was kept, if there was any. */
  kept: string | null;
  keptPaths: string[];
}

async function blobs(ctx: GitContext, commit: string | null): Promise<Map<string, string>> {
  return commit ? parseLsTreeZ(await gitOutput(ctx, ["ls-tree", "-r", "-z", commit])) : new Map();
}

/** Finish an interrupted move, if the journal says there is one; null when there is none. */
export async function recoverInterruptedMove(app: App, ctx: GitContext, gitDir: string): Promise<Recovery | null> {
  const move = readMove(gitDir);
  if (!move) return null;
  log.warn(`found a move ${shortSha(move.from)} → ${shortSha(move.to)} cut short at ${move.at}: finishing it`);
  removeIndexLockOfCrashedMove(gitDir, app.dir);
  const [before, after] = await Promise.all([blobs(ctx, move.from), blobs(ctx, move.to)]);
  const status = parseStatusZ(
    await gitOutput(ctx, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"]),
  );
  // Untracked files in neither tree are the node's own and a reset does not touch them.
  const differing = status.map((entry) => entry.path).filter((path) => before.has(path) || after.has(path));
  const files = differing.filter((path) => lstatSync(join(app.dir, path), { throwIfNoEntry: false })?.isFile());
  const hashes =
    files.length === 0
      ? []
      : (await gitOutput(ctx, ["hash-object", "--stdin-paths"], `${files.join("\n")}\n`)).split("\n");
  const local = files.filter((path, i) => hashes[i] !== before.get(path) && hashes[i] !== after.get(path));
  const kept = local.length > 0 ? moveAsideLocalFiles(app, local) : null;
  await resetHard(ctx, move.to);
  endMove(gitDir);
  const recovery = {
    at: new Date().toISOString(),
    from: move.from,
    to: move.to,
    finished: differing.length - local.length,
    kept,
    keptPaths: local,
  };
  log.warn(
    `recovered the interrupted move to ${shortSha(move.to)}: ${recovery.finished} half-written path(s) finished` +
      (kept
        ? `; ${local.length} changed file(s) that matched neither version kept in ${kept}: ${local.join(", ")}`
        : ""),
  );
  return recovery;
}
