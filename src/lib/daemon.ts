import { closeSync, openSync, renameSync, statSync } from "node:fs";
import { mkdirSync } from "node:fs";
import type { App } from "./app.ts";
import { StepFailedError } from "./errors.ts";
import { readTextOrNull } from "./fs.ts";
import { isStale, readLockHolder } from "./lock.ts";
import { log } from "./log.ts";
import { isProcessAlive, waitForExit } from "./process.ts";
import { selfArgv } from "./self.ts";
import { spawnDetached } from "./spawn.ts";

const MAX_LOG_BYTES = 5 * 1024 * 1024;

export interface SlaveInfo {
  running: boolean;
  pid: number | null;
  since: string | null;
}

/** The slave loop holds the slave lock for its whole life, so the lock's holder is the loop. */
export function readSlave(app: App): SlaveInfo {
  const holder = readLockHolder(app.paths.slaveLock);
  if (!holder || isStale(holder)) return { running: false, pid: null, since: null };
  return { running: true, pid: holder.pid, since: holder.since };
}

function openLog(path: string): number {
  try {
    if (statSync(path).size > MAX_LOG_BYTES) renameSync(path, `${path}.1`);
  } catch {
    // no log yet
  }
  return openSync(path, "a", 0o600);
}

function tail(path: string, lines = 5): string {
  return (readTextOrNull(path) ?? "").trimEnd().split("\n").slice(-lines).join("\n");
}

export interface StartedSlave {
  pid: number;
  alreadyRunning: boolean;
}

/** Start `git:slave --foreground` detached, its output going to the app's log; wait until it holds its lock. */
export async function startSlaveInBackground(app: App, flags: string[]): Promise<StartedSlave> {
  const current = readSlave(app);
  if (current.running && current.pid) return { pid: current.pid, alreadyRunning: true };
  mkdirSync(app.paths.root, { recursive: true });
  const fd = openLog(app.paths.log);
  let child: ReturnType<typeof spawnDetached>;
  try {
    child = spawnDetached([...selfArgv(), "git:slave", "--foreground", "--dir", app.dir, ...flags], { cwd: app.dir, logFd: fd });
  } finally {
    closeSync(fd);
  }
  let exited = false;
  void child.exited.then(() => (exited = true));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const holder = readLockHolder(app.paths.slaveLock);
    if (holder?.pid === child.pid) return { pid: child.pid, alreadyRunning: false };
    if (exited || !isProcessAlive(child.pid)) {
      // Lost a race with another start? Then that loop is the one running.
      const other = readSlave(app);
      if (other.running && other.pid) return { pid: other.pid, alreadyRunning: true };
      throw new StepFailedError(`the slave loop exited at start:\n${tail(app.paths.log)}`, `see ${app.paths.log}`);
    }
    await Bun.sleep(25);
  }
  throw new StepFailedError(`the slave loop (pid ${child.pid}) did not start within 15s`, `see ${app.paths.log}`);
}

export interface StoppedSlave {
  pid: number | null;
  forced: boolean;
}

/** SIGTERM the loop and wait for it to finish its step; SIGKILL only after `timeoutMs`. */
export async function stopSlave(app: App, timeoutMs = 60_000): Promise<StoppedSlave> {
  const { pid, running } = readSlave(app);
  if (!running || !pid) return { pid: null, forced: false };
  process.kill(pid, "SIGTERM");
  if (await waitForExit(pid, timeoutMs)) return { pid, forced: false };
  log.warn(`slave loop pid ${pid} did not stop within ${timeoutMs / 1000}s: killing it`);
  process.kill(pid, "SIGKILL");
  await waitForExit(pid, 10_000);
  return { pid, forced: true };
}
