import { closeSync, mkdirSync, openSync, renameSync, statSync } from "node:fs";
import { StepFailedError } from "../core/errors.ts";
import { readTextOrNull } from "../core/fs.ts";
import { log } from "../core/log.ts";
import { findLoops, isLoopArgv, isProcessAlive, processArgv, waitForExit } from "../core/process.ts";
import { spawnDetached } from "../core/spawn.ts";
import { selfArgv } from "../release/self.ts";
import type { App } from "../app/app.ts";
import { isStale, readLockHolder } from "../app/lock.ts";

const MAX_LOG_BYTES = 5 * 1024 * 1024;

export interface SlaveInfo {
  running: boolean;
  pid: number | null;
  since: string | null;
  /**
   * Not running, but its lock is still there naming a pid that is gone: the loop was killed
   * (kill -9, the OOM killer, a crash) or the machine went down, rather than stopped.
   */
  crashed: boolean;
}

/** A background loop: the command that runs it with --foreground, the lock it holds, the log it writes. */
export interface DaemonSpec {
  command: string;
  /** The working copy it follows (its --dir). */
  dir: string;
  lockPath: string;
  logPath: string;
}

export function gitSlaveDaemon(app: Pick<App, "dir" | "paths">): DaemonSpec {
  return { command: "git:slave", dir: app.dir, lockPath: app.paths.slaveLock, logPath: app.paths.log };
}

/**
 * A loop holds its lock for its whole life, so the lock's holder is the loop, when the holder's
 * argv says it is one (an old lock's pid may belong to another program now). A loop whose lock is
 * unreadable, or that runs with another state dir, is found by its argv: it is still running.
 */
export function readDaemon(spec: DaemonSpec): SlaveInfo {
  const holder = readLockHolder(spec.lockPath);
  if (holder && !isStale(holder)) {
    const argv = processArgv(holder.pid);
    if (argv === null || isLoopArgv(argv, spec.command))
      return { running: true, pid: holder.pid, since: holder.since, crashed: false };
  }
  const [other] = findLoops(spec.command, spec.dir);
  if (other) return { running: true, pid: other, since: null, crashed: false };
  // A clean stop releases the lock; one left behind names a loop that died.
  return holder
    ? { running: false, pid: holder.pid, since: holder.since, crashed: true }
    : { running: false, pid: null, since: null, crashed: false };
}

/** A loop's state for a person: running since when, crashed (and what brings it back), or stopped. */
export function describeLoop(info: SlaveInfo): string {
  if (info.running) return `running (pid ${info.pid}${info.since ? `, since ${info.since}` : ""})`;
  if (info.crashed)
    return `crashed (pid ${info.pid} is gone; it had run since ${info.since}) — protocol restart brings it back`;
  return "stopped";
}

export function readSlave(app: App): SlaveInfo {
  return readDaemon(gitSlaveDaemon(app));
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

/** Start `<command> --foreground` detached, its output going to its log; wait until it holds its lock. */
export async function startDaemon(app: App, spec: DaemonSpec, flags: string[]): Promise<StartedSlave> {
  const current = readDaemon(spec);
  if (current.running && current.pid) return { pid: current.pid, alreadyRunning: true };
  mkdirSync(app.paths.root, { recursive: true });
  const fd = openLog(spec.logPath);
  let child: ReturnType<typeof spawnDetached>;
  try {
    child = spawnDetached([...selfArgv(), spec.command, "--foreground", "--dir", app.dir, ...flags], {
      cwd: app.dir,
      logFd: fd,
    });
  } finally {
    closeSync(fd);
  }
  let exited = false;
  void child.exited.then(() => (exited = true));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const holder = readLockHolder(spec.lockPath);
    if (holder?.pid === child.pid) return { pid: child.pid, alreadyRunning: false };
    if (exited || !isProcessAlive(child.pid)) {
      // Lost a race with another start? Then that loop is the one running.
      const other = readDaemon(spec);
      if (other.running && other.pid) return { pid: other.pid, alreadyRunning: true };
      throw new StepFailedError(
        `the ${spec.command} loop exited at start: ${tail(spec.logPath).split("\n").join(" | ")}`,
        `see ${spec.logPath}`,
      );
    }
    await Bun.sleep(25);
  }
  throw new StepFailedError(
    `the ${spec.command} loop (pid ${child.pid}) did not start within 15s`,
    `see ${spec.logPath}`,
  );
}

export async function startSlaveInBackground(app: App, flags: string[]): Promise<StartedSlave> {
  return startDaemon(app, gitSlaveDaemon(app), flags);
}

export interface StoppedSlave {
  pid: number | null;
  forced: boolean;
}

/** SIGTERM the loop and wait for it to finish its step; SIGKILL only after `timeoutMs`. */
export async function stopDaemon(spec: DaemonSpec, timeoutMs = 60_000): Promise<StoppedSlave> {
  const { pid, running } = readDaemon(spec);
  if (!running || !pid) return { pid: null, forced: false };
  // readDaemon checked the pid runs the loop: no other program is ever signalled.
  process.kill(pid, "SIGTERM");
  if (await waitForExit(pid, timeoutMs)) return { pid, forced: false };
  log.warn(`${spec.command} loop pid ${pid} did not stop within ${timeoutMs / 1000}s: killing it`);
  process.kill(pid, "SIGKILL");
  await waitForExit(pid, 10_000);
  return { pid, forced: true };
}

/** Ask a running loop to poll now (SIGHUP); the pid signalled, or null when no loop that wakes runs. */
export function wakeDaemon(spec: DaemonSpec): number | null {
  const holder = readLockHolder(spec.lockPath);
  if (!holder || isStale(holder) || !holder.wakes) return null;
  const argv = processArgv(holder.pid);
  // The holder's argv must say it is this loop: a pid is never signalled on the lock file's word alone.
  if (argv === null || !isLoopArgv(argv, spec.command)) return null;
  process.kill(holder.pid, "SIGHUP");
  return holder.pid;
}

export async function stopSlave(app: App, timeoutMs = 60_000): Promise<StoppedSlave> {
  return stopDaemon(gitSlaveDaemon(app), timeoutMs);
}
