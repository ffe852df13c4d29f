/**
 * What the app's one loop follows (the node's state: `follow`), and the loop started, woken or
 * stopped to match: git:slave / config:slave turn a part on, git:slave:stop / config:slave:stop
 * turn it off, and the loop stops when it follows nothing.
 */
import type { App } from "../app/app.ts";
import { gitSlaveDaemon, readSlave } from "../app/loops.ts";
import { readNodeState, updateNodeState } from "../app/state.ts";
import { hasConfigRepo } from "../config-repo/repo.ts";
import { type StartedSlave, type StoppedSlave, startSlaveInBackground, stopSlave, wakeDaemon } from "./daemon.ts";
import { stopGitUnit } from "./supervisor.ts";

export type Part = "app" | "config";

export function setFollow(app: App, follow: { app?: boolean; config?: boolean }): void {
  const before = readNodeState(app.paths.status).follow;
  const after = { ...before, ...follow };
  if (after.app !== before.app || after.config !== before.config) updateNodeState(app.paths.status, { follow: after });
}

/** Turn a part on: the loop is started with `flags` when it is not running, else woken to follow it at once. */
export async function followPart(app: App, part: Part, flags: string[]): Promise<StartedSlave> {
  setFollow(app, { [part]: true });
  const loop = readSlave(app);
  if (loop.running && loop.pid) {
    wakeDaemon(gitSlaveDaemon(app));
    return { pid: loop.pid, alreadyRunning: true };
  }
  // Started for the config alone, the loop does not begin to follow the app's remote as well.
  if (part === "config" && !loop.running) setFollow(app, { app: false });
  return startSlaveInBackground(app, flags);
}

/** Whether the loop still has something to follow once `part` is dropped. */
function othersLeft(app: App, part: Part): boolean {
  const follow = { ...readNodeState(app.paths.status).follow, [part]: false };
  return follow.app || (follow.config && hasConfigRepo(app));
}

/**
 * Turn a part off: the loop stops when nothing is left to follow (under systemd, through systemd:
 * it would start a signalled loop again), else it is woken to drop the part.
 */
export async function dropPart(app: App, part: Part): Promise<StoppedSlave & { unit: string | null }> {
  const left = othersLeft(app, part);
  setFollow(app, { [part]: false });
  if (left) {
    const pid = wakeDaemon(gitSlaveDaemon(app));
    return { pid: null, forced: false, unit: null, ...(pid ? { kept: pid } : {}) };
  }
  const unit = await stopGitUnit(app);
  return { ...(await stopSlave(app)), unit };
}
