/**
 * The working copy's own locks, in its .git/protocol/: whatever state dir a protocol runs with
 * (another HOME, another PROTOCOL_HOME), one sync moves a checkout at a time, and one loop follows it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { App } from "../app/app.ts";
import { type Lock, lockWaiting } from "../app/lock.ts";
import { gitDir } from "./git.ts";

/** The path of the lock `name` (`sync.lock`, `git-slave.lock`) in a working copy's .git dir. */
export function lockIn(dotGit: string, name: string): string {
  return join(dotGit, "protocol", name);
}

/** The path of the working copy's lock `name`. */
export async function checkoutLockPath(dir: string, name: string): Promise<string> {
  return lockIn(await gitDir({ dir }), name);
}

/**
 * The app's sync lock: one pass, deploy, rollback or relink at a time. The state dir's lock first,
 * then the working copy's (every protocol takes them in that order, so two never wait on each
 * other), each waited for as long as `waitMs`; both are released together.
 */
export async function lockApp(app: Pick<App, "dir" | "paths">, command: string, waitMs = 60_000): Promise<Lock> {
  const state = await lockWaiting(app.paths.syncLock, command, waitMs);
  try {
    // A dir that is not (yet) a working copy has no checkout to guard.
    if (!existsSync(join(app.dir, ".git"))) return state;
    return state.with(await lockWaiting(await checkoutLockPath(app.dir, "sync.lock"), command, waitMs));
  } catch (error) {
    state.release();
    throw error;
  }
}
