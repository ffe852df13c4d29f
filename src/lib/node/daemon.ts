import { closeSync, mkdirSync, openSync, renameSync, statSync } from "node:fs";
import type { App } from "../app/app.ts";
import { isStale, readLockHolder } from "../app/lock.ts";
import { type DaemonSpec, gitSlaveDaemon, legacyConfigDaemon, readDaemon } from "../app/loops.ts";
import { StepFailedError } from "../core/errors.ts";
import { readTextOrNull } from "../core/fs.ts";
import { log } from "../core/log.ts";
import { MAX_LOG_BYTES } from "../core/log-rotation.ts";
import { childGroups, isLoopArgv, isProcessAlive, processArgv, waitForExit } from "../core/process.ts";
import { killGroup } from "../core/process-groups.ts";
import { spawnDetached } from "../core/spawn.ts";
import { selfArgv } from "../release/self.ts";

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

/**
 * The loop runs without JavaScriptCore's JIT. It spends weeks on idle passes whose JavaScript is a
 * few milliseconds of glue around git and docker; the JIT's compiled code and its pools cost it
 * 7–10 MB of resident memory for no time won (bench/memory.ts: 1.59x the Bun floor loop with the
 * JIT, 1.23x without; an idle poll's CPU is lower without it). Its children do not inherit it.
 */
export const LOOP_RUNTIME_ENV = { BUN_JSC_useJIT: "0" };

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
      env: LOOP_RUNTIME_ENV,
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
  /** The loop was not stopped: it goes on following the app's other part (this pid). */
  kept?: number;
}

/** How long stop waits for a loop to finish its step: PROTOCOL_STOP_TIMEOUT (seconds), 60 by default. */
export function stopTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  const seconds = Number(env.PROTOCOL_STOP_TIMEOUT);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : 60) * 1000;
}

/**
 * SIGTERM the loop and wait for it to finish its step; SIGKILL only after `timeoutMs`, and with it
 * the groups it started (a hook, a fetch): nothing would enforce their limits once it is gone, and
 * the next start would run the same hook beside them.
 */
export async function stopDaemon(spec: DaemonSpec, timeoutMs = stopTimeoutMs()): Promise<StoppedSlave> {
  const { pid, running } = readDaemon(spec);
  if (!running || !pid) return { pid: null, forced: false };
  // readDaemon checked the pid runs the loop: no other program is ever signalled.
  process.kill(pid, "SIGTERM");
  if (await waitForExit(pid, timeoutMs)) return { pid, forced: false };
  const groups = childGroups(pid);
  log.warn(
    `${spec.command} loop pid ${pid} did not stop within ${timeoutMs / 1000}s: killing it${groups.length > 0 ? ` and what it runs (process groups ${groups.join(", ")})` : ""}`,
  );
  process.kill(pid, "SIGKILL");
  for (const group of groups) killGroup(group, "SIGKILL");
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

export async function stopSlave(app: App, timeoutMs = stopTimeoutMs()): Promise<StoppedSlave> {
  return stopDaemon(gitSlaveDaemon(app), timeoutMs);
}

/** Stop an older protocol's separate config loop, if one runs. */
export async function stopLegacyConfigSlave(app: App): Promise<StoppedSlave> {
  return stopDaemon(legacyConfigDaemon(app));
}
