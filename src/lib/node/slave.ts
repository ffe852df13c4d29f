import { nextDelayMs } from "../core/backoff.ts";
import { errorMessage } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { gitContext } from "../git/auth.ts";
import { type App, loadApp, pollInterval } from "./app.ts";
import { acquireLock } from "./lock.ts";
import { readNodeState } from "./state.ts";
import { type DirtyPolicy, type DivergedPolicy, syncNode } from "./sync.ts";
import { resolveTarget, type SyncTarget } from "./target.ts";

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    const wake = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", wake, { once: true });
  });
}

export interface SlaveOptions {
  /** --interval; protocol.json's git.interval (re-read after each deploy) otherwise. */
  intervalSeconds?: number;
  onDirty: DirtyPolicy;
  onDiverged: DivergedPolicy;
}

/** One kind of background loop: the app's git sync (git:slave) or the config repo's (config:slave). */
export interface PollLoop {
  /** The command named in its lock and log lines. */
  command: string;
  /** "slave mode", "config slave mode": how the log names it. */
  label: string;
  /** Held for the loop's whole life: its holder is the loop. */
  lockPath: string;
  /** --interval; protocol.json's git.interval (re-read after each deploy) otherwise. */
  intervalSeconds?: number;
  /** Consecutive failures, for the backoff. */
  failures(app: App): number;
  /** One poll, waiting at most an interval for the sync lock; true when it brought a new commit, so protocol.json is read again. Throws only to skip a poll. */
  poll(app: App, lockWaitMs: number): Promise<boolean>;
}

/**
 * A loop in this process: poll until SIGTERM/SIGINT. A signal lets the current step finish, then
 * the lock is released and the function returns. Nothing the remote does ends the loop.
 */
export async function runPollLoop(initial: App, loop: PollLoop): Promise<void> {
  const loopLock = await acquireLock(loop.lockPath, { command: loop.command });
  const stop = new AbortController();
  const onSignal = (signal: string) => {
    log.info(`${signal} received: finishing the current step, then stopping`);
    stop.abort();
  };
  const onTerm = () => onSignal("SIGTERM");
  const onInt = () => onSignal("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  let app = initial;
  const interval = (current: App) => pollInterval(current, loop.intervalSeconds);
  try {
    log.info(`${loop.label} for ${app.dir}: polling every ${interval(app)}s (pid ${process.pid})`);
    while (!stop.signal.aborted) {
      try {
        // The new commit may carry a new protocol.json (branch, interval): follow it.
        if (await loop.poll(app, interval(app) * 1000)) app = loadApp(app.dir);
      } catch (error) {
        // Only the lock can throw here (held by a long git:pull): skip this poll.
        log.warn(`poll skipped: ${errorMessage(error)}`);
      }
      if (stop.signal.aborted) break;
      await sleep(nextDelayMs(interval(app), loop.failures(app)), stop.signal);
    }
  } finally {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
    loopLock.release();
    log.info(`${loop.label} stopped`);
  }
}

/** Slave mode for the app's working copy. */
export async function runSlaveLoop(initial: App, options: SlaveOptions): Promise<void> {
  let target: SyncTarget | undefined;
  return runPollLoop(initial, {
    command: "git:slave",
    label: "slave mode",
    lockPath: initial.paths.slaveLock,
    intervalSeconds: options.intervalSeconds,
    failures: (app) => readNodeState(app.paths.status).failures,
    async poll(app, lockWaitMs) {
      try {
        target ??= await resolveTarget(app, gitContext(app));
      } catch {
        // syncNode resolves it again and records why it failed
      }
      const result = await syncNode(app, {
        ...options,
        command: "git:slave",
        target,
        lockWaitMs,
      });
      if (result.result !== "deployed") return false;
      target = undefined;
      return true;
    },
  });
}
