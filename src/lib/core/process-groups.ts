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

/**
 * A child in a group of its own no longer gets the terminal's Ctrl-C, nor dies with protocol: a
 * one-shot command (no handler of its own for the signal) passes SIGINT, SIGTERM and SIGHUP on to
 * the groups it started, then dies of it as before. The loop has its own handlers (its step finishes).
 */
export function forwardSignals(): () => void {
  const installed: [NodeJS.Signals, () => void][] = [];
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    if (process.listenerCount(signal) > 0) continue;
    const handler = () => {
      for (const pid of liveGroups) killGroup(pid, signal);
      for (const [name, fn] of installed) process.off(name, fn);
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
    installed.push([signal, handler]);
  }
  return () => {
    for (const [name, fn] of installed) process.off(name, fn);
  };
}

process.on("exit", () => {
  for (const pid of liveGroups) killGroup(pid, "SIGKILL");
});
