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
import type { FleetRecord } from "../schema/fleet.ts";
import { nodeIdentity } from "./identity.ts";
import { fleetRef, pushRef, scratchRepo, writeRecordCommit } from "./refs.ts";
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
    ...report,
    error: report.error ? report.error.slice(0, 500) : null,
  };
  updateNodeState(app.paths.status, {
    fleetReport: { record, nextAt: Date.now() + (urgent ? 0 : spreadMs(place, rollout)), failures: 0, error: null },
  });
}

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
    const { record } = pending;
    const commit = await writeRecordCommit(ctx, record, `${record.node}: ${record.result} ${shortSha(record.commit)}`);
    await pushRef(ctx, target.url, fleetRef(target.env, target.node), commit);
    if (pending.failures > 0) log.info(`fleet record pushed to ${target.url} after ${pending.failures} failed tries`);
    // A newer record queued meanwhile stays queued.
    if (readNodeState(app.paths.status).fleetReport?.record.at === record.at)
      updateNodeState(app.paths.status, { fleetReport: null });
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
