import { linkSync, mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import * as v from "valibot";
import { diskFullOr, LockedError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/fs.ts";
import { readJsonFile } from "../core/json-file.ts";
import { log } from "../core/log.ts";
import { bootId, isProcessAlive, processStartTicks } from "../core/process.ts";

const LockHolderSchema = v.object({
  pid: v.number(),
  host: v.string(),
  command: v.string(),
  since: v.string(),
  /** Boot id and process start time, so a pid reused after a reboot or a crash is not taken for the holder. */
  boot: v.optional(v.nullable(v.string()), null),
  started: v.optional(v.nullable(v.number()), null),
  /** A loop that polls at once on SIGHUP (older loops died of it: they are never sent one). */
  wakes: v.optional(v.boolean()),
});

export type LockHolder = v.InferOutput<typeof LockHolderSchema>;

/** Who holds the lock at `path`, or null when nobody does. An unreadable lock file counts as held by nobody. */
export function readLockHolder(path: string): LockHolder | null {
  return readJsonFile<LockHolder | null>(path, LockHolderSchema, null);
}

/** A lock whose holder ran on this host and is gone (kill -9, power loss). */
export function isStale(holder: LockHolder | null): boolean {
  if (holder === null) return true;
  if (holder.host !== hostname()) return false;
  if (!isProcessAlive(holder.pid)) return true;
  const boot = bootId();
  if (holder.boot && boot && holder.boot !== boot) return true;
  const started = processStartTicks(holder.pid);
  return holder.started != null && started !== null && holder.started !== started;
}

export function describeHolder(holder: LockHolder): string {
  return `pid ${holder.pid} (${holder.command}) on ${holder.host} since ${holder.since}`;
}

export class Lock {
  private released = false;
  /** Locks taken with this one and released with it (the working copy's, with the state dir's). */
  private readonly alongside: Lock[] = [];
  constructor(
    readonly path: string,
    readonly holder: LockHolder,
  ) {}

  /** This lock, holding `other` too: released together (the last taken first). */
  with(other: Lock): Lock {
    this.alongside.unshift(other);
    return this;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const other of this.alongside) other.release();
    // Only remove the file if it is still ours: a stale-lock recovery elsewhere may have replaced it.
    if (readLockHolder(this.path)?.pid === this.holder.pid) {
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
    }
  }

  /**
   * For a holder that keeps its lock for long (a loop): whether the file still names it. A file that
   * was removed or made unreadable is written again (and that is logged); one that names another
   * holder means someone took the lock, and the answer is false.
   */
  stillHeld(): boolean {
    const current = readLockHolder(this.path);
    if (current) return current.pid === this.holder.pid;
    writeFileAtomic(this.path, JSON.stringify(this.holder));
    log.warn(`the lock file ${this.path} was missing or unreadable: written again for pid ${this.holder.pid}`);
    return true;
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/** Create the lock file with its content in one step: write a temp file, then link(2), which fails if it exists. */
function tryCreate(path: string, holder: LockHolder): boolean {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(tmp, JSON.stringify(holder));
  } catch (error) {
    rmSync(tmp, { force: true });
    throw diskFullOr(error, dirname(path));
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Move a stale lock aside; re-check after the move so a lock taken meanwhile is put back, not lost.
 * Exported for the test of that race.
 */
export function recoverStale(path: string, seen: LockHolder | null): void {
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else recovered it first
  }
  const moved = readLockHolder(aside);
  if (moved && seen && moved.pid !== seen.pid && !isStale(moved)) {
    try {
      linkSync(aside, path);
    } catch {
      // a third process took it; the one we moved lost a race it would have lost anyway
    }
  } else {
    log.warn(`recovered a stale lock ${path}${seen ? ` left by ${describeHolder(seen)}` : " (unreadable)"}`);
  }
  try {
    unlinkSync(aside);
  } catch {
    // gone already
  }
}

export interface AcquireOptions {
  command: string;
  /** How long to wait for a live holder; 0 fails at once. */
  waitMs?: number;
  onWait?: (holder: LockHolder) => void;
  /**
   * The live process that owns this lock whatever its file says (a loop found by its argv), or
   * null: a lock file that is unreadable, or names a dead pid, is only recovered when there is none.
   */
  liveOwner?: () => number | null;
  /** The holder polls at once on SIGHUP (a loop), recorded so that `protocol sync` may send one. */
  wakes?: boolean;
}

export async function acquireLock(path: string, options: AcquireOptions): Promise<Lock> {
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    command: options.command,
    since: new Date().toISOString(),
    boot: bootId(),
    started: processStartTicks(process.pid),
    ...(options.wakes ? { wakes: true } : {}),
  };
  const deadline = Date.now() + (options.waitMs ?? 0);
  let told = false;
  for (;;) {
    if (tryCreate(path, holder)) return new Lock(path, holder);
    const current = readLockHolder(path);
    const owner = isStale(current) ? (options.liveOwner?.() ?? null) : null;
    if (owner !== null) {
      throw new LockedError(
        `${path} is held by pid ${owner}, a protocol loop that is still running (the lock file ${current ? "names another pid" : "is unreadable"})`,
        "stop that loop first (protocol stop), or leave it running",
      );
    }
    if (isStale(current)) {
      // An unreadable file may be a lock being written right now: give it a moment before recovering.
      if (current === null) await Bun.sleep(100);
      if (current !== null || readLockHolder(path) === null) recoverStale(path, current);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new LockedError(
        `the app is locked by ${describeHolder(current!)}`,
        "wait for it to finish (or pass --wait <seconds>); a lock whose process died is recovered automatically",
      );
    }
    if (!told) {
      told = true;
      options.onWait?.(current!);
    }
    await Bun.sleep(100);
  }
}

/** A lock at `path`, waiting for another holder as long as `waitMs` and saying so. */
export async function lockWaiting(path: string, command: string, waitMs = 60_000): Promise<Lock> {
  return acquireLock(path, {
    command,
    waitMs,
    onWait: (holder) => log.info(`waiting for the lock held by ${describeHolder(holder)}`),
  });
}
