import { gitSlaveDaemon, readDaemon, type SlaveInfo } from "../app/loops.ts";
import { listRegistrations, readNodeState } from "../app/state.ts";
import { DEFAULT_INTERVAL } from "../core/backoff.ts";
import { appPaths } from "../core/paths.ts";
import { shellQuote } from "../core/shell.ts";
import type { Check } from "../host/doctor.ts";
import type { NodeState, Registration } from "../schema/state.ts";

/** A last sync older than this many intervals (at least 15 minutes: backoff tops out at 5) is stale. */
const STALE_INTERVALS = 10;
const STALE_FLOOR_MS = 15 * 60_000;
/** Consecutive failed polls before doctor calls the loop failing (one is a blip). */
const FAILING_AFTER = 3;

/** Pure: what doctor says of one registered node's loop. */
export function judgeLoop(registration: Registration, loop: SlaveInfo, state: NodeState, now: number): Check {
  const name = `slave mode (${registration.name})`;
  const dir = shellQuote(registration.dir);
  if (!loop.running) {
    return {
      name,
      ok: false,
      detail: loop.crashed
        ? `crashed: pid ${loop.pid} is gone (it had run since ${loop.since}) for ${registration.dir}`
        : `not running for ${registration.dir}, although it is registered`,
      fix: `protocol start --dir ${dir} (or protocol restart for every registered node)`,
    };
  }
  const sync = state.lastSync;
  const interval = (registration.interval ?? DEFAULT_INTERVAL) * 1000;
  const staleAfter = Math.max(STALE_FLOOR_MS, STALE_INTERVALS * interval);
  if (!sync || now - Date.parse(sync.at) > staleAfter) {
    return {
      name,
      ok: false,
      severity: "warning",
      detail: `pid ${loop.pid} runs, but its last sync is ${sync ? `from ${sync.at}` : "not recorded"}`,
      fix: `read its log: protocol logs --dir ${dir}`,
    };
  }
  if (state.failures >= FAILING_AFTER) {
    return {
      name,
      ok: false,
      severity: "warning",
      detail: `failing for ${state.failures} polls: ${sync.result}: ${sync.error ?? "?"}`,
      fix: `protocol status --dir ${dir}; protocol logs --dir ${dir}`,
    };
  }
  return { name, ok: true, detail: `pid ${loop.pid}, last sync ${sync.result} at ${sync.at}` };
}

/** Every registered node's loop: alive, syncing recently, not failing. */
export function checkLoops(now = Date.now()): Check[] {
  const registrations = listRegistrations().filter((registration) => registration.enabled);
  if (registrations.length === 0)
    return [{ name: "slave mode", ok: true, skipped: true, detail: "no node is registered on this machine" }];
  return registrations.map((registration) => {
    const paths = appPaths(registration.dir);
    const loop = readDaemon(gitSlaveDaemon({ dir: registration.dir, paths }));
    return judgeLoop(registration, loop, readNodeState(paths.status), now);
  });
}
