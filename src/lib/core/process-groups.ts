/**
 * The process groups of the children spawn.ts runs with a limit: each in a group of its own, so the
 * limit kills what the child started too. What protocol owes them when it dies itself is here.
 */

/** The groups of the children running now that have one (see SpawnOptions.group). */
export const liveGroups = new Set<number>();

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** The handlers forwardSignals installed, shared by the runs that overlap (the last to end removes them). */
let forwarding: { users: number; installed: [NodeJS.Signals, () => void][] } | null = null;

/**
 * A child in a group of its own no longer gets the terminal's Ctrl-C, nor dies with protocol: a
 * one-shot command (no handler of its own for the signal) passes SIGINT, SIGTERM and SIGHUP on to
 * the groups it started, then dies of it as before. The loop has its own handlers (its step finishes).
 * Runs that overlap share one set of handlers, kept until the last of them ends.
 */
export function forwardSignals(): () => void {
  if (forwarding === null) {
    const installed: [NodeJS.Signals, () => void][] = [];
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      if (process.listenerCount(signal) > 0) continue;
      const handler = () => {
        for (const pid of liveGroups) killGroup(pid, signal);
        for (const [name, fn] of installed) process.off(name, fn);
        forwarding = null;
        process.kill(process.pid, signal);
      };
      process.on(signal, handler);
      installed.push([signal, handler]);
    }
    forwarding = { users: 0, installed };
  }
  const mine = forwarding;
  mine.users += 1;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    mine.users -= 1;
    if (mine.users > 0 || forwarding !== mine) return;
    for (const [name, fn] of mine.installed) process.off(name, fn);
    forwarding = null;
  };
}

process.on("exit", () => {
  for (const pid of liveGroups) killGroup(pid, "SIGKILL");
});
