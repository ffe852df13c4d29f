/**
 * Room before the move: the files a commit brings must fit on the working copy's file system, and
 * the state dir needs room for its records, or a checkout stops half way. Checked before anything
 * is touched; too little room is infrastructure (retried with backoff), not the commit's fault.
 */
import { freeBytes, mb } from "../core/disk.ts";
import { type GitContext, gitOutput } from "../git/git.ts";

/** What the state dir needs free for a sync's records (state file, deploy log line, lock). */
export const STATE_DIR_NEEDS = 1024 * 1024;
/** Headroom on top of the files: git's index and the temp files of a checkout. */
const MARGIN = 1024 * 1024;

/** Bytes of the blobs that moving from `from` to `to` writes (added and changed files), plus headroom. */
export async function bytesToWrite(ctx: GitContext, from: string | null, to: string): Promise<number> {
  const raw = from
    ? await gitOutput(ctx, ["diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", from, to])
    : await gitOutput(ctx, ["ls-tree", "-r", "-z", to]);
  const ids = new Set<string>();
  for (const field of raw.split("\0")) {
    // diff-tree: ":100644 100644 <old> <new> M"; ls-tree: "100644 blob <id>\t<path>"
    const id = from
      ? /^:\d{6} \d{6} [0-9a-f]+ ([0-9a-f]{40,64}) [AMT]/.exec(field)?.[1]
      : /^\d{6} blob ([0-9a-f]{40,64})\t/.exec(field)?.[1];
    if (id && !/^0+$/.test(id)) ids.add(id);
  }
  if (ids.size === 0) return MARGIN;
  const sizes = await gitOutput(ctx, ["cat-file", "--batch-check=%(objectsize)"], `${[...ids].join("\n")}\n`);
  return sizes.split("\n").reduce((sum, line) => sum + (Number(line) || 0), 0) + MARGIN;
}

/** The first place that lacks room, as the one-line error; null when both have room. Reads only. */
export async function lackOfRoom(
  places: { path: string; need: number }[],
): Promise<{ error: string; hint: string } | null> {
  for (const { path, need } of places) {
    const have = await freeBytes(path);
    if (have < need) {
      return {
        error: `not enough disk space: need ${mb(need)} MB at ${path}, have ${mb(have)} MB`,
        hint: "free space on that file system; nothing was changed and protocol retries with backoff",
      };
    }
  }
  return null;
}
