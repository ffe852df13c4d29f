import { readdirSync, readFileSync, readlinkSync, statSync, unlinkSync } from "node:fs";
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
export function clearStaleIndexLock(gitDir: string, workTree: string, now = Date.now()): boolean {
  const path = join(gitDir, "index.lock");
  let age: number;
  try {
    age = now - statSync(path).mtimeMs;
  } catch {
    return false;
  }
  if (age < STALE_INDEX_LOCK_MS || gitRunningIn(workTree) === true) return false;
  unlinkSync(path);
  log.warn(`removed a stale ${path} (${Math.round(age / 1000)}s old, no git process running in ${workTree})`);
  return true;
}
