/**
 * Fetching a branch, within the room its file system has. A fetch writes its pack into
 * .git/objects as it arrives, so a commit bigger than the free space used to fill the disk to the
 * last byte and leave its `tmp_pack_*` there. Free space is watched while it runs: once it falls
 * under the reserve (core/disk-reserve.ts) the fetch is killed, the temp files it wrote are removed at once,
 * and it fails as disk full with the sizes, not as a remote that is unreachable.
 */
import { join } from "node:path";
import { diagnose } from "../core/causes.ts";
import { diskReserveBytes, diskSpace, FetchDiskFullError, mountPoint } from "../core/disk-reserve.ts";
import { shortSha } from "../core/output.ts";
import { type GitContext, gitDir, hasFetched, network, networkIdleTimeoutMs, unreachable } from "./git.ts";

/** How often free space is looked at while a fetch runs: one statfs, cheap. */
const WATCH_MS = 100;

/**
 * Make `sha` (the remote branch's tip) complete here: fetch unless a finished fetch brought it
 * already. A killed fetch is simply fetched again; its temp files are removed first. Returns whether it fetched.
 */
export async function ensureFetched(ctx: GitContext, remote: string, branch: string, sha: string): Promise<boolean> {
  if (await hasFetched(ctx, remote, branch, sha)) return false;
  const { clearFetchLeftovers } = await import("./leftovers.ts");
  clearFetchLeftovers(await gitDir(ctx), ctx.dir, networkIdleTimeoutMs());
  await fetchBranch(ctx, remote, branch, sha);
  return true;
}

/** Fetch `branch` into refs/remotes/<remote>/<branch>; `commit` (its tip, when known) names it in a disk-full error. */
export async function fetchBranch(
  ctx: GitContext,
  remote: string,
  branch: string,
  commit: string | null = null,
): Promise<void> {
  const refspec = `+refs/heads/${branch}:refs/remotes/${remote}/${branch}`;
  // unpackLimit=1: the pack goes to index-pack, which reports progress as bytes arrive and writes
  // one temp pack renamed into place when complete (unpack-objects is silent and writes loose objects).
  const args = ["-c", "fetch.unpackLimit=1", "fetch", "--no-tags", "--progress", "--", remote, refspec];
  const dotGit = await gitDir(ctx);
  const objects = join(dotGit, "objects");
  const start = diskSpace(objects);
  const reserve = diskReserveBytes(start.total);
  const what = commit ? shortSha(commit) : `${remote}/${branch}`;
  const fullAt = (freeAtStop: number) =>
    new FetchDiskFullError(
      {
        commit,
        mount: mountPoint(objects),
        freeBefore: start.free,
        freeAtStop,
        reserve,
        at: new Date().toISOString(),
      },
      what,
    );
  if (start.free < reserve) throw fullAt(start.free);
  const { fetchTemps, removeFetchTemps } = await import("./leftovers.ts");
  const before = new Set(fetchTemps(dotGit).map((file) => file.path));
  const low = new AbortController();
  let lowest = start.free;
  const watch = setInterval(() => {
    lowest = Math.min(lowest, diskSpace(objects).free);
    if (lowest < reserve) low.abort();
  }, WATCH_MS);
  let result: Awaited<ReturnType<typeof network>>;
  try {
    result = await network(ctx, remote, args, networkIdleTimeoutMs(), low.signal);
  } finally {
    clearInterval(watch);
  }
  if (result.ok) return;
  // Stopped by the watch, or git's own write failed first (a link faster than the watch).
  if (!low.signal.aborted && diagnose(result.stderr)?.kind !== "disk-full") throw unreachable(remote, result);
  lowest = Math.min(lowest, diskSpace(objects).free);
  await removeFetchTemps(dotGit, ctx.dir, before);
  throw fullAt(lowest);
}
