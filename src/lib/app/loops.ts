/**
 * The app's loop as its lock file and the process table show it: running (and since when),
 * crashed, or stopped. Read by status, doctor and the config repo's status; started and stopped by
 * node/daemon.ts.
 */
import { findLoops, isLoopArgv, processArgv } from "../core/process.ts";
import type { App } from "./app.ts";
import { isStale, readLockHolder } from "./lock.ts";

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

/** The separate config loop an older protocol ran (one loop per app now: stopped wherever it is found). */
export function legacyConfigDaemon(app: Pick<App, "dir" | "paths">): DaemonSpec {
  return { command: "config:slave", dir: app.dir, lockPath: app.paths.configSlaveLock, logPath: app.paths.configLog };
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
