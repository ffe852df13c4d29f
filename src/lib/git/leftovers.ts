/**
 * What a killed git leaves behind in a repository, and when protocol may remove it: a stale
 * `index.lock` (blocks every later command) and the temp files of a fetch cut short (`tmp_pack_*`,
 * `tmp_idx_*`, `tmp_obj_*`, which a retried fetch never reuses).
 */
import { readdirSync, readFileSync, readlinkSync, rmSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { log } from "../core/log.ts";

export const STALE_INDEX_LOCK_MS = 60_000;

/** Whether a git process is running with its cwd inside `dir` (Linux /proc); null where unknown. */
function gitRunningIn(dir: string): boolean | null {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  return pids.some((pid) => {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "git") return false;
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      return cwd === dir || cwd.startsWith(`${dir}/`);
    } catch {
      return false;
    }
  });
}

/**
 * A `.git/index.lock` left by a killed git blocks every later git command forever. Remove it when
 * it is older than a minute and no git process works in the repo; say so in the log.
 */
export function clearStaleIndexLock(
  gitDir: string,
  workTree: string,
  now = Date.now(),
  minAgeMs = STALE_INDEX_LOCK_MS,
): boolean {
  const path = join(gitDir, "index.lock");
  let age: number;
  try {
    age = now - statSync(path).mtimeMs;
  } catch {
    return false;
  }
  if (age < minAgeMs || gitRunningIn(workTree) === true) return false;
  unlinkSync(path);
  log.warn(`removed a stale ${path} (${Math.round(age / 1000)}s old, no git process running in ${workTree})`);
  return true;
}

/**
 * The index.lock of a move that protocol's own journal says was cut short: protocol held the sync
 * lock, so the git that left it was protocol's; removed at once unless a git process works in the repo.
 */
export function removeIndexLockOfCrashedMove(gitDir: string, workTree: string): boolean {
  return clearStaleIndexLock(gitDir, workTree, Date.now(), 0);
}

const FETCH_LEFTOVER = /^(tmp_pack_|tmp_idx_|tmp_obj_|tmp_rev_)/;

/** The temp files of fetches in the repo's object dirs, with their sizes and ages. */
export function fetchTemps(gitDir: string): { path: string; size: number; mtimeMs: number }[] {
  const found: { path: string; size: number; mtimeMs: number }[] = [];
  for (const dir of [join(gitDir, "objects", "pack"), join(gitDir, "objects")]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => FETCH_LEFTOVER.test(n))) {
      try {
        const stat = statSync(join(dir, name));
        found.push({ path: join(dir, name), size: stat.size, mtimeMs: stat.mtimeMs });
      } catch {
        // gone meanwhile
      }
    }
  }
  return found;
}

function removeAll(files: { path: string; size: number }[]): number {
  let freed = 0;
  for (const { path, size } of files) {
    rmSync(path, { force: true, recursive: true });
    freed += size;
  }
  return freed;
}

/**
 * Remove the temp files of fetches that were killed: older than the network timeout (a fetch that
 * is alive writes more often than that, or is killed itself) while no git process works in the repo.
 * Returns the bytes freed.
 */
export function clearFetchLeftovers(gitDir: string, workTree: string, olderThanMs: number, now = Date.now()): number {
  const candidates = fetchTemps(gitDir).filter((file) => now - file.mtimeMs >= olderThanMs);
  if (candidates.length === 0 || gitRunningIn(workTree) === true) return 0;
  const freed = removeAll(candidates);
  log.warn(
    `removed ${candidates.length} temp file(s) of an interrupted fetch (${Math.round(freed / 1024)} KB) from ${gitDir}`,
  );
  return freed;
}

/** How long the git processes of a fetch this process killed get to be gone before its files are removed. */
const GONE_WITHIN_MS = 2_000;

/**
 * The temp files of a fetch this process stopped, removed at once: the ones that were not there
 * when it started (`before`), never another fetch's. Its git processes (killed) are given a moment
 * to be gone first, so none of them writes on. Returns the bytes freed.
 */
export async function removeFetchTemps(gitDir: string, workTree: string, before: ReadonlySet<string>): Promise<number> {
  for (let waited = 0; waited < GONE_WITHIN_MS && gitRunningIn(workTree) === true; waited += 20) await Bun.sleep(20);
  const ours = fetchTemps(gitDir).filter((file) => !before.has(file.path));
  const freed = removeAll(ours);
  if (ours.length > 0)
    log.info(`removed the ${ours.length} temp file(s) of the stopped fetch (${Math.round(freed / 1024)} KB)`);
  return freed;
}
