import { log } from "../core/log.ts";
import { headCommit } from "../git/git.ts";
import type { App } from "../app/app.ts";
import { acquireLock, describeHolder, type Lock } from "../app/lock.ts";
import { readNodeState } from "../app/state.ts";
import { configHash } from "./hash.ts";

export interface FollowResult {
  /** compose ran (or was attempted) because the linked config changed. */
  deployed: boolean;
  error: string | null;
}

/** The app's sync lock: relinking and the deploy it triggers never interleave with an app sync. */
export async function lockApp(app: App, command: string, waitMs = 60_000): Promise<Lock> {
  return acquireLock(app.paths.syncLock, {
    command,
    waitMs,
    onWait: (holder) => log.info(`waiting for the lock held by ${describeHolder(holder)}`),
  });
}

/**
 * Re-run the deploy when the linked files differ from those of the last deploy, so compose `up`
 * runs once per change. Call it holding the app's sync lock. A node never deployed here is left alone.
 */
export async function deployIfConfigChanged(app: App): Promise<FollowResult> {
  const state = readNodeState(app.paths.status);
  if (!state.deployedCommit || configHash(app) === state.deployedConfigHash) return { deployed: false, error: null };
  log.info("the linked config changed: bringing the containers up again");
  const to = (await headCommit({ dir: app.dir })) ?? state.deployedCommit;
  // Imported on a change only: status and the idle poll read this module too.
  const { deployApp } = await import("../deploy/deploy.ts");
  const result = await deployApp(app, { from: state.deployedCommit, to, reason: "config" });
  return { deployed: true, error: result.error };
}
