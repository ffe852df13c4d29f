/**
 * This node's fleet record: queued in the state file when something worth reporting happens, pushed
 * to the status remote after the sync (never inside a deploy), retried with backoff while it fails.
 */
import { VERSION } from "../../version.ts";
import type { App } from "../app/app.ts";
import { readNodeState, updateNodeState } from "../app/state.ts";
import { effectiveEnv } from "../config-repo/env.ts";
import { doublingBackoffMs } from "../core/backoff.ts";
import { errorMessage } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import type { Conflict, FleetRecord } from "../schema/fleet.ts";
import { machineName, nodeIdentity } from "./identity.ts";
import { fleetRef, scratchRepo, writeRecordCommit } from "./refs.ts";
import { pushOwnRecord } from "./twins.ts";
import { spreadMs, wavePlace } from "./waves.ts";

/** The environment name a node reports under when it has none (no config repo, no start <env>). */
export const DEFAULT_FLEET_ENV = "default";

/** The first retry of a failed push; doubled per failure up to the git backoff's cap. */
const REPORT_RETRY_MS = 5_000;

export interface FleetTarget {
  url: string;
  env: string;
  node: string;
}

/** Where this app's node reports, or null without rollout.statusRemote. */
export function fleetTarget(app: App): FleetTarget | null {
  const url = app.config.rollout?.statusRemote;
  if (!url) return null;
  return { url, env: effectiveEnv(app) ?? DEFAULT_FLEET_ENV, node: nodeIdentity().id };
}

export type Report = Pick<FleetRecord, "commit" | "running" | "result"> & Partial<Pick<FleetRecord, "dueAt" | "error">>;

/**
 * Queue the node's record (replacing one not pushed yet: only the latest matters). A failure is
 * pushed at once, so the next wave sees it; anything else after the node's share of its wave's spread.
 */
export function queueReport(app: App, report: Report): void {
  try {
    queue(app, report);
  } catch (error) {
    // A full state dir or a bad PROTOCOL_NODE_ID: the record is lost, the deploy is not.
    log.warn(`could not queue the fleet record: ${errorMessage(error)}`);
  }
}

function queue(app: App, report: Report): void {
  const target = fleetTarget(app);
  const rollout = app.config.rollout;
  if (!target || !rollout) return;
  const place = wavePlace(target.node, rollout);
  const urgent = report.result === "failed" || report.result === "rolled-back";
  const record: FleetRecord = {
    node: target.node,
    env: target.env,
    app: app.name,
    wave: place.wave,
    version: VERSION,
    at: new Date().toISOString(),
    dueAt: null,
    machine: machineName(),
    conflict: null,
    ...report,
    error: report.error ? report.error.slice(0, 500) : null,
  };
  updateNodeState(app.paths.status, {
    fleetReport: { record, nextAt: Date.now() + (urgent ? 0 : spreadMs(place, rollout)), failures: 0, error: null },
  });
}

/** What status, doctor and the loop's log say of a node id another machine reports under too. */
export function conflictMessage(node: string, conflict: Conflict): string {
  return `node id ${node} is also reported from machine ${conflict.machine} (its record at ${conflict.at}): two machines share it, and each overwrites the other's record`;
}

/** The fix for it. */
export const CONFLICT_FIX = "give each machine its own PROTOCOL_NODE_ID (in the environment protocol start runs in)";

/** Push the queued record when it is due. Never throws: the status remote never fails a sync. */
export async function flushReport(app: App): Promise<void> {
  let pending = readNodeState(app.paths.status).fleetReport;
  if (!pending || Date.now() < pending.nextAt) return;
  let target: FleetTarget | null;
  try {
    target = fleetTarget(app);
  } catch (error) {
    return log.warn(`fleet record not pushed: ${errorMessage(error)}`);
  }
  if (!target) return;
  try {
    const ctx = await scratchRepo(target.url);
    const ref = fleetRef(target.env, target.node);
    const record = { ...pending.record, machine: pending.record.machine ?? machineName() };
    const message = `${record.node}: ${record.result} ${shortSha(record.commit)}`;
    const conflict = await pushOwnRecord(ctx, target.url, ref, record.machine, (found) =>
      writeRecordCommit(ctx, { ...record, conflict: found }, message),
    );
    if (pending.failures > 0) log.info(`fleet record pushed to ${target.url} after ${pending.failures} failed tries`);
    if (conflict) log.warn(conflictMessage(target.node, conflict));
    const fleetConflict = conflict ? { node: target.node, ...conflict, seenAt: new Date().toISOString() } : null;
    // A newer record queued meanwhile stays queued.
    const done = readNodeState(app.paths.status).fleetReport?.record.at === record.at;
    updateNodeState(app.paths.status, { fleetConflict, ...(done ? { fleetReport: null } : {}) });
  } catch (error) {
    pending = readNodeState(app.paths.status).fleetReport ?? pending;
    const failures = pending.failures + 1;
    const message = errorMessage(error);
    if (failures === 1 || message !== pending.error)
      log.warn(`could not push the fleet record to ${target.url}: ${message} (retried with backoff; deploys go on)`);
    try {
      updateNodeState(app.paths.status, {
        fleetReport: {
          ...pending,
          failures,
          error: message,
          nextAt: Date.now() + doublingBackoffMs(REPORT_RETRY_MS, failures),
        },
      });
    } catch {
      // a full state dir: the record is pushed again on the next poll
    }
  }
}
