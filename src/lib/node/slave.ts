import { statSync } from "node:fs";
import { join } from "node:path";
import { type App, loadApp, PROTOCOL_JSON, pollInterval } from "../app/app.ts";
import { acquireLock, type Lock } from "../app/lock.ts";
import { readNodeState } from "../app/state.ts";
import { nextDelayMs } from "../core/backoff.ts";
import { errorMessage } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { keepLogBounded } from "../core/log-rotation.ts";
import { findLoops } from "../core/process.ts";
import { gitContext } from "../git/auth.ts";
import { checkoutLockPath } from "../git/checkout-lock.ts";
import { assertWorkTree } from "../git/git.ts";
import type { DirtyPolicy, DivergedPolicy } from "./outcome.ts";
import { runPass } from "./pass.ts";
import { resolveTarget, type SyncTarget } from "./target.ts";

/** Wait `ms`, or less when one of the signals fires (stop, or SIGHUP's "poll now"). */
function sleep(ms: number, ...signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    if (signals.some((signal) => signal.aborted)) return resolve();
    const timer = setTimeout(resolve, ms);
    const wake = () => {
      clearTimeout(timer);
      resolve();
    };
    for (const signal of signals) signal.addEventListener("abort", wake, { once: true });
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
  /** Where a background loop's output goes (kept bounded while it runs when that is its stderr). */
  logPath: string;
  /** --interval; protocol.json's git.interval (re-read after each deploy) otherwise. */
  intervalSeconds?: number;
  /** Consecutive failures, for the backoff. */
  failures(app: App): number;
  /** One poll, waiting at most an interval for the sync lock; true when it brought a new commit, so protocol.json is read again. Throws only to skip a poll. */
  poll(app: App, lockWaitMs: number, signal: AbortSignal): Promise<boolean>;
}

/**
 * The loop's two locks, held for its whole life: the state dir's (its holder is what status and
 * stop read) and one in the working copy's own .git, so a second state dir (another HOME or
 * PROTOCOL_HOME) cannot run a second loop on the same checkout. A lock file that is unreadable or
 * names a dead pid is not taken over while a loop for this working copy is still running.
 */
async function acquireLoopLocks(app: App, loop: PollLoop): Promise<Lock[]> {
  const liveOwner = () => findLoops(loop.command, app.dir)[0] ?? null;
  const name = `${loop.command.replace(/:/g, "-")}.lock`;
  // The working copy's lock first: once the state dir's lock names this loop (what start waits
  // for), both are held.
  const checkout = await acquireLock(await checkoutLockPath(app.dir, name), {
    command: loop.command,
    liveOwner,
  });
  try {
    return [checkout, await acquireLock(loop.lockPath, { command: loop.command, liveOwner, wakes: true })];
  } catch (error) {
    checkout.release();
    throw error;
  }
}

/** What a stat says of the app's protocol.json: a change shows without reading it. */
function configStamp(dir: string): string {
  const stat = statSync(join(dir, PROTOCOL_JSON), { throwIfNoEntry: false });
  return stat ? `${stat.ino}:${stat.size}:${stat.mtimeMs}` : "none";
}

/**
 * The app as the loop runs it next: read again when its protocol.json changed since `stamp` (a
 * git:pull or deploy:rollback by hand, an edit), whoever changed it. One that became invalid is
 * said, and the loop goes on with what it had.
 */
function followConfigFile(app: App, stamp: { value: string }): App {
  const now = configStamp(app.dir);
  if (now === stamp.value) return app;
  stamp.value = now;
  try {
    const next = loadApp(app.dir);
    log.info(`${PROTOCOL_JSON} changed: read again`);
    return next;
  } catch (error) {
    log.warn(`${PROTOCOL_JSON} changed and cannot be used: ${errorMessage(error)} (going on with the one read before)`);
    return app;
  }
}

/**
 * A loop in this process: poll until SIGTERM/SIGINT. A signal lets the current step finish, then
 * the lock is released and the function returns. Nothing the remote does ends the loop.
 */
export async function runPollLoop(initial: App, loop: PollLoop): Promise<void> {
  const locks = await acquireLoopLocks(initial, loop);
  keepLogBounded(loop.logPath);
  const stop = new AbortController();
  const onSignal = (signal: string) => {
    log.info(`${signal} received: finishing the current step, then stopping`);
    stop.abort();
  };
  const onTerm = () => onSignal("SIGTERM");
  const onInt = () => onSignal("SIGINT");
  // SIGHUP (protocol sync, kill -HUP): poll now instead of waiting out the interval or the backoff.
  let wake = new AbortController();
  const onHup = () => {
    log.info("SIGHUP received: polling now");
    wake.abort();
  };
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  process.on("SIGHUP", onHup);
  let app = initial;
  const stamp = { value: configStamp(app.dir) };
  const interval = (current: App) => pollInterval(current, loop.intervalSeconds);
  // Polls that threw (a full state dir cannot even record its failure) back off like failed syncs.
  let skipped = 0;
  try {
    log.info(`${loop.label} for ${app.dir}: polling every ${interval(app)}s (pid ${process.pid})`);
    while (!stop.signal.aborted) {
      try {
        const lost = locks.find((lock) => !lock.stillHeld());
        if (lost) {
          log.error(`${loop.label} no longer holds ${lost.path}: another loop took it; stopping this one`);
          break;
        }
        // A protocol.json changed by anyone (a stat each poll, no read) is followed from this poll on.
        app = followConfigFile(app, stamp);
        // The new commit may carry a new protocol.json (branch, interval): follow it.
        if (await loop.poll(app, interval(app) * 1000, stop.signal)) {
          app = loadApp(app.dir);
          stamp.value = configStamp(app.dir);
        }
        skipped = 0;
      } catch (error) {
        // The lock (held by a long git:pull) or the state dir (full) can throw here: skip this poll.
        skipped++;
        log.warn(`poll skipped: ${errorMessage(error)}`);
      }
      if (stop.signal.aborted) break;
      // A SIGHUP during the poll asks for another one at once.
      if (!wake.signal.aborted)
        await sleep(nextDelayMs(interval(app), Math.max(loop.failures(app), skipped)), stop.signal, wake.signal);
      wake = new AbortController();
    }
  } finally {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
    process.off("SIGHUP", onHup);
    for (const lock of locks) lock.release();
    log.info(`${loop.label} stopped`);
  }
}

/**
 * Slave mode: the app's one loop. Each poll is a pass over what the node follows (its state's
 * `follow`, read every poll: git:slave and config:slave turn the parts on and off and wake it):
 * the app's remote and its containers, and the config repo's remote.
 */
export async function runSlaveLoop(initial: App, options: SlaveOptions): Promise<void> {
  let target: SyncTarget | undefined;
  return runPollLoop(initial, {
    command: "git:slave",
    label: "slave mode",
    lockPath: initial.paths.slaveLock,
    logPath: initial.paths.log,
    intervalSeconds: options.intervalSeconds,
    failures: (app) => readNodeState(app.paths.status).failures,
    async poll(app, lockWaitMs, signal) {
      try {
        target ??= await resolveTarget(app, gitContext(app));
      } catch {
        // runPass resolves it again and records why it failed
      }
      const follow = readNodeState(app.paths.status).follow;
      const result = await runPass(app, {
        ...options,
        command: "git:slave",
        target,
        lockWaitMs,
        signal,
        announce: true,
        followApp: follow.app,
        followConfig: follow.config,
      });
      if (result.result !== "deployed") return false;
      target = undefined;
      return true;
    },
  });
}

/** `git:slave --foreground`: the app at `dir` (or found from the current directory), which must be a working copy. */
export async function runSlaveInForeground(dir: string | undefined, options: SlaveOptions): Promise<void> {
  const app = loadApp(dir);
  await assertWorkTree(app.dir);
  return runSlaveLoop(app, options);
}
