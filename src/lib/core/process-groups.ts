/**
 * The process groups of the children spawn.ts runs with a limit: each in a group of its own, so the
 * limit kills what the child started too. What protocol owes them when it dies itself is here.
 */

/** The groups of the children running now that have one (see SpawnOptions.group). */
const liveGroups = new Set<number>();

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** The handlers installed while groups live, removed when the last one ends. */
let forwarding: [NodeJS.Signals, () => void][] = [];

/**
 * A child in a group of its own no longer gets the terminal's Ctrl-C, nor dies with protocol: while
 * groups live, a one-shot command (no handler of its own for the signal) passes SIGINT, SIGTERM and
 * SIGHUP on to them, then dies of it as before. The loop has its own handlers (its step finishes).
 */
function forwardSignals(): void {
  for (const signal of SIGNALS) {
    if (process.listenerCount(signal) > 0) continue;
    const handler = () => {
      for (const pid of liveGroups) killGroup(pid, signal);
      stopForwarding();
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
    forwarding.push([signal, handler]);
  }
}

function stopForwarding(): void {
  for (const [signal, handler] of forwarding) process.off(signal, handler);
  forwarding = [];
}

/** A child's group is alive: killed with protocol (exit, or a signal a one-shot dies of). */
export function adoptGroup(pid: number): void {
  if (liveGroups.size === 0) forwardSignals();
  liveGroups.add(pid);
}

/** The child is gone: its group is not protocol's to kill any more. */
export function releaseGroup(pid: number): void {
  liveGroups.delete(pid);
  if (liveGroups.size === 0) stopForwarding();
}

process.on("exit", () => {
  for (const pid of liveGroups) killGroup(pid, "SIGKILL");
});
