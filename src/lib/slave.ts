import { loadApp, type App } from "./app.ts";
import { errorMessage } from "./errors.ts";
import { gitContext } from "./git-auth.ts";
import { acquireLock } from "./lock.ts";
import { log } from "./log.ts";
import { readNodeState } from "./state.ts";
import { syncNode, type DirtyPolicy, type DivergedPolicy } from "./sync.ts";
import { resolveTarget, type SyncTarget } from "./target.ts";

/** The longest wait between polls while the remote is unreachable (unless the interval is longer). */
export const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * The wait before the next poll: the interval ±20 % (so 100 nodes do not poll in step), doubled
 * per consecutive failure up to MAX_BACKOFF_MS.
 */
export function nextDelayMs(intervalSeconds: number, failures: number, random = Math.random): number {
  const base = intervalSeconds * 1000;
  const jitter = 0.8 + random() * 0.4;
  if (failures <= 0) return Math.round(base * jitter);
  const backoff = Math.min(Math.max(base, MAX_BACKOFF_MS), base * 2 ** Math.min(failures, 16));
  return Math.round(backoff * jitter);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

export interface SlaveOptions {
  /** --interval; protocol.json's git.interval (re-read after each deploy) otherwise. */
  intervalSeconds?: number;
  onDirty: DirtyPolicy;
  onDiverged: DivergedPolicy;
}

/**
 * Slave mode in this process: poll until SIGTERM/SIGINT. A signal lets the current step finish,
 * then the locks are released and the function returns. Nothing the remote does ends the loop.
 */
export async function runSlaveLoop(initial: App, options: SlaveOptions): Promise<void> {
  const slaveLock = await acquireLock(initial.paths.slaveLock, { command: "git:slave" });
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
  let target: SyncTarget | undefined;
  try {
    const interval = () => options.intervalSeconds ?? app.config.git?.interval ?? 10;
    log.info(`slave mode for ${app.dir}: polling every ${interval()}s (pid ${process.pid})`);
    while (!stop.signal.aborted) {
      try {
        target ??= await resolveTarget(app, gitContext(app));
      } catch {
        // syncNode resolves it again and records why it failed
      }
      try {
        const result = await syncNode(app, { ...options, command: "git:slave", announce: true, target, lockWaitMs: interval() * 1000 });
        if (result.result === "deployed") {
          // The new commit may carry a new protocol.json (branch, interval): follow it.
          app = loadApp(app.dir);
          target = undefined;
        }
      } catch (error) {
        // Only the lock can throw here (held by a long git:pull): skip this poll.
        log.warn(`poll skipped: ${errorMessage(error)}`);
      }
      if (stop.signal.aborted) break;
      await sleep(nextDelayMs(interval(), readNodeState(app.paths.status).failures), stop.signal);
    }
  } finally {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
    slaveLock.release();
    log.info("slave mode stopped");
  }
}
