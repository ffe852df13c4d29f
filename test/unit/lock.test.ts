import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import {
  acquireLock,
  describeHolder,
  isStale,
  type LockHolder,
  readLockHolder,
  recoverStale,
} from "../../src/lib/app/lock.ts";
import { EXIT, LockedError } from "../../src/lib/core/errors.ts";
import { bootId, processStartTicks } from "../../src/lib/core/process.ts";

let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "protocol-lock-"));
  path = join(dir, "apps", "x", "sync.lock");
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function holder(overrides: Partial<LockHolder> = {}): LockHolder {
  return {
    pid: process.pid,
    host: hostname(),
    command: "git:pull",
    since: "2024-01-01T00:00:00.000Z",
    boot: null,
    started: null,
    ...overrides,
  };
}

/** A pid that was a real process on this host and has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = Bun.spawn(["true"]);
  await child.exited;
  return child.pid;
}

async function lockedError(promise: Promise<unknown>): Promise<LockedError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LockedError);
    return error as LockedError;
  }
  throw new Error("expected a LockedError");
}

describe("acquireLock", () => {
  test("creates the lock file, and its parent dirs, naming this pid, host and command", async () => {
    const lock = await acquireLock(path, { command: "git:slave" });
    const written = JSON.parse(readFileSync(path, "utf8"));
    expect(written).toEqual({
      pid: process.pid,
      host: hostname(),
      command: "git:slave",
      since: lock.holder.since,
      boot: bootId(),
      started: processStartTicks(process.pid),
    });
    expect(Number.isNaN(Date.parse(written.since))).toBe(false);
    lock.release();
  });

  test("leaves no temp files beside the lock", async () => {
    const lock = await acquireLock(path, { command: "git:pull" });
    expect(readdirSync(join(dir, "apps", "x"))).toEqual(["sync.lock"]);
    lock.release();
  });

  test("fails at once with a LockedError (exit 8) naming the holder's pid when waitMs is 0", async () => {
    const first = await acquireLock(path, { command: "git:slave" });
    let waited = false;
    const error = await lockedError(
      acquireLock(path, { command: "git:pull", waitMs: 0, onWait: () => (waited = true) }),
    );
    // At once: it never went into the wait.
    expect(waited).toBe(false);
    expect(error.exitCode).toBe(EXIT.locked);
    expect(error.exitCode).toBe(8);
    expect(error.message).toContain(`pid ${process.pid} (git:slave)`);
    expect(error.hint).toContain("--wait");
    // The holder's lock is untouched.
    expect(readLockHolder(path)).toEqual(first.holder);
    first.release();
  });

  test("waits for the holder (saying so once), then fails when the holder keeps the lock", async () => {
    const first = await acquireLock(path, { command: "git:slave" });
    const waits: string[] = [];
    const error = await lockedError(
      acquireLock(path, { command: "git:pull", waitMs: 300, onWait: (holder) => waits.push(holder.command) }),
    );
    expect(waits).toEqual(["git:slave"]);
    expect(error.message).toContain(`pid ${process.pid} (git:slave)`);
    expect(readLockHolder(path)).toEqual(first.holder);
    first.release();
  });

  test("waits, says so once, and succeeds when the holder releases within waitMs", async () => {
    const first = await acquireLock(path, { command: "git:slave" });
    const waits: LockHolder[] = [];
    setTimeout(() => first.release(), 250);
    const second = await acquireLock(path, { command: "git:pull", waitMs: 5_000, onWait: (h) => waits.push(h) });
    expect(waits).toEqual([first.holder]);
    expect(readLockHolder(path)?.command).toBe("git:pull");
    second.release();
    expect(existsSync(path)).toBe(false);
  });

  test("recovers a lock left by a dead pid on this host", async () => {
    const pid = await deadPid();
    await Bun.write(path, JSON.stringify(holder({ pid, command: "git:slave" })));
    const lock = await acquireLock(path, { command: "git:pull", waitMs: 0 });
    expect(readLockHolder(path)).toEqual(lock.holder);
    expect(lock.holder.pid).toBe(process.pid);
    lock.release();
  });

  test("a recovery that comes late does not break a lock taken meanwhile by a live holder", async () => {
    // Seen stale (a dead pid), then recovered and taken by a live process before this recovery runs.
    const seen = holder({ pid: await deadPid(), command: "git:slave" });
    const live = holder({
      pid: process.pid,
      command: "git:pull",
      boot: bootId(),
      started: processStartTicks(process.pid),
    });
    await Bun.write(path, JSON.stringify(live));
    recoverStale(path, seen);
    expect(readLockHolder(path)).toEqual(live);
    expect(readdirSync(join(dir, "apps", "x"))).toEqual(["sync.lock"]);
  });

  test("an unreadable lock file is not taken over while its live owner runs (a loop found by its argv)", async () => {
    await Bun.write(path, "\u0000 not json");
    const error = await lockedError(acquireLock(path, { command: "git:slave", liveOwner: () => 4242 }));
    expect(error.message).toContain("held by pid 4242");
    expect(readFileSync(path, "utf8")).toBe("\u0000 not json");
  });

  test("does not recover a lock from another host, even if its pid is dead here", async () => {
    const pid = await deadPid();
    await Bun.write(path, JSON.stringify(holder({ pid, host: `not-${hostname()}` })));
    const error = await lockedError(acquireLock(path, { command: "git:pull", waitMs: 0 }));
    expect(error.message).toContain(`pid ${pid}`);
    expect(error.message).toContain(`on not-${hostname()}`);
  });

  test.each([
    ["garbage", "not json {"],
    ["an empty file", ""],
    ["JSON missing fields", JSON.stringify({ pid: 1 })],
  ])("recovers an unparseable lock file (%s)", async (_name, text) => {
    await Bun.write(path, text);
    const lock = await acquireLock(path, { command: "git:pull", waitMs: 0 });
    expect(readLockHolder(path)).toEqual(lock.holder);
    lock.release();
  });
});

describe("Lock.release", () => {
  test("removes its own lock file", async () => {
    const lock = await acquireLock(path, { command: "git:pull" });
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  test("leaves a lock file that another process has taken since", async () => {
    const lock = await acquireLock(path, { command: "git:pull" });
    const other = holder({ pid: 1, command: "git:slave" });
    await Bun.write(path, JSON.stringify(other));
    lock.release();
    expect(readLockHolder(path)).toEqual(other);
  });

  test("does nothing the second time, so a later holder's lock survives", async () => {
    const lock = await acquireLock(path, { command: "git:pull" });
    lock.release();
    const next = await acquireLock(path, { command: "git:slave" });
    lock.release();
    expect(readLockHolder(path)).toEqual(next.holder);
    next.release();
  });

  test("releases at the end of a using block", async () => {
    {
      using _lock = await acquireLock(path, { command: "git:pull" });
      expect(existsSync(path)).toBe(true);
    }
    expect(existsSync(path)).toBe(false);
  });
});

describe("lock holders", () => {
  test("reads nobody from a missing file", () => {
    expect(readLockHolder(path)).toBeNull();
  });

  test.each([
    ["nobody (unreadable file)", true, () => null],
    ["this live process", false, () => holder()],
    ["a pid on another host", false, () => holder({ host: "elsewhere" })],
  ])("judges a lock held by %s stale: %p", (_name, expected, make) => {
    expect(isStale(make())).toBe(expected);
  });

  test("judges a lock held by a dead pid on this host stale", async () => {
    expect(isStale(holder({ pid: await deadPid() }))).toBe(true);
  });

  test("judges a live pid stale when it started at another time than the holder did (pid reused)", () => {
    const started = processStartTicks(process.pid);
    expect(started).not.toBeNull();
    expect(isStale(holder({ started }))).toBe(false);
    expect(isStale(holder({ started: (started ?? 0) + 1 }))).toBe(true);
  });

  test("judges a lock written before a reboot stale even when its pid is alive again", () => {
    expect(isStale(holder({ boot: bootId() }))).toBe(false);
    expect(isStale(holder({ boot: "00000000-0000-0000-0000-000000000000" }))).toBe(true);
  });

  test("describes a holder by pid, command, host and start time", () => {
    expect(describeHolder(holder({ pid: 42, host: "node-1" }))).toBe(
      "pid 42 (git:pull) on node-1 since 2024-01-01T00:00:00.000Z",
    );
  });
});
