/**
 * The only place a pass's outcomes are written down: the node's state file, the deploy log, the
 * quarantine, the fleet record and the webhook. Steps (deploy/, fleet/, docker/) return what
 * happened; the executor hands it here.
 */
import type { App } from "../app/app.ts";
import { appendDeploy, readNodeState, updateNodeState, writeNodeState } from "../app/state.ts";
import { configHash } from "../config-repo/hash.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import type { GateCheck } from "../fleet/gate.ts";
import type { NodeState } from "../schema/state.ts";
import type { DeployRun } from "./execute-deploy.ts";
import type { SyncOutcome } from "./outcome.ts";
import type { Recovery } from "./recover.ts";
import { announceSync, newsOfSync } from "./sync-announce.ts";

/** The webhook (ofetch) is loaded when there is something to send: an idle pass never needs it. */
async function notifyDeploy(...args: Parameters<typeof import("../deploy/notify.ts").notifyDeploy>): Promise<void> {
  if (!args[0].config.notify?.webhook) return;
  await (await import("../deploy/notify.ts")).notifyDeploy(...args);
}

/** A deploy begins: status shows it, and a deploy cut short is resumed under the same id. */
export function recordDeployStart(
  app: App,
  deploying: { id: string; from: string | null; to: string; reason: string },
): void {
  updateNodeState(app.paths.status, { deploying: { ...deploying, since: new Date().toISOString(), error: null } });
}

/** The compose project a deploy brings up: kept, so a later rename of the app never orphans its containers. */
export function recordProject(app: App, project: string): void {
  if (readNodeState(app.paths.status).project !== project) updateNodeState(app.paths.status, { project });
}

/** A hook step passed: durably, before the next one starts. */
export function recordHookDone(app: App, deployId: string, to: string, key: string): void {
  const before = readNodeState(app.paths.status).hooksDone;
  // An older protocol's marker (no id) for this commit was adopted by this deploy: its steps stay.
  const adopted = before !== null && !before.deployId && before.to === to;
  const steps = before?.deployId === deployId || adopted ? (before?.steps ?? []) : [];
  updateNodeState(app.paths.status, { hooksDone: { deployId, to, steps: [...steps, key] } });
}

/** A deploy ended: the deploy log, the node's state, the fleet record, the webhook. */
export async function recordDeploy(
  app: App,
  run: DeployRun,
  previous: NodeState,
  deployedConfigHash: string | null,
): Promise<void> {
  const { plan, result, error } = run;
  appendDeploy(app.paths.deploys, {
    from: plan.from,
    to: plan.to,
    startedAt: run.startedAt.toISOString(),
    durationMs: run.durationMs,
    result,
    reason: plan.reason,
    error,
    keptAs: run.keptAs,
    compose: run.composeRan,
    images: run.images,
    rolledBackTo: run.rolledBackTo,
    hooks: run.hooks,
  });
  if (app.config.rollout?.statusRemote) {
    const running =
      result === "deployed" ? plan.to : result === "rolled-back" ? run.rolledBackTo : previous.deployedCommit;
    (await import("../fleet/report.ts")).queueReport(app, { commit: plan.to, running, result, error });
  }
  const services = run.services ? { running: run.services.running, completed: run.services.completed } : null;
  if (result === "deployed") {
    updateNodeState(app.paths.status, {
      deployedCommit: plan.to,
      deployedConfigHash,
      images: run.images,
      quarantine: null,
      deploying: null,
      hooksDone: null,
      // A new deploy starts the restart count afresh and lifts a crash-loop mark.
      heal: { restarts: {}, crashLoop: null },
      // The digests just deployed are not "a new image available" any more.
      registry: { ...previous.registry, updateAvailable: null },
      ...(run.composeRan ? { services } : {}),
    });
  } else if (result === "error") {
    // The same deploy is tried again (its finished hook steps stay done).
    const deploying = readNodeState(app.paths.status).deploying;
    if (deploying) updateNodeState(app.paths.status, { deploying: { ...deploying, error } });
  } else {
    // Never a hot loop: the failed commit (or image digests) is skipped until the remote moves on.
    updateNodeState(app.paths.status, {
      deploying: null,
      hooksDone: null,
      quarantine: {
        commit: plan.to,
        digests: plan.digests,
        reason: error ?? "deploy failed",
        at: new Date().toISOString(),
        rolledBackTo: run.rolledBackTo,
      },
      ...(result === "rolled-back" && services ? { services, heal: { restarts: {}, crashLoop: null } } : {}),
    });
  }
  await notifyDeploy(app, {
    event: result === "deployed" ? "succeeded" : result,
    from: plan.from,
    to: plan.to,
    error,
  });
  if (run.hookFailed)
    await notifyDeploy(app, { event: "hook-failed", from: plan.from, to: plan.to, error: run.hookFailed });
}

/** Services were started again (or tried): one more restart each in the count that leads to crash-looping. */
export function recordHeal(app: App, services: string[], now: number, windowSeconds: number): void {
  const heal = readNodeState(app.paths.status).heal;
  const restarts: Record<string, number[]> = {};
  // Only restarts still in the window are kept, for every service.
  for (const [service, times] of Object.entries(heal.restarts)) {
    const kept = times.filter((at) => now - at < windowSeconds * 1000);
    if (kept.length > 0) restarts[service] = kept;
  }
  for (const service of services) restarts[service] = [...(restarts[service] ?? []), now];
  updateNodeState(app.paths.status, { heal: { ...heal, restarts } });
}

/** Services that keep dying: marked, said once, left alone until the next deploy or start. */
export async function recordCrashLoop(
  app: App,
  services: string[],
  restarts: number,
  commit: string | null,
  now = Date.now(),
): Promise<void> {
  const heal = readNodeState(app.paths.status).heal;
  // The span the restarts took: from the first still counted to this death.
  const first = Math.min(now, ...services.map((service) => heal.restarts[service]?.[0] ?? now));
  const span = Math.max(1, Math.round((now - first) / 1000));
  // Services marked earlier (for this commit) stay marked.
  const earlier = heal.crashLoop?.commit === commit ? heal.crashLoop.services : [];
  const all = [...new Set([...earlier, ...services])].sort();
  updateNodeState(app.paths.status, {
    heal: {
      ...heal,
      crashLoop: { services: all, since: heal.crashLoop?.since ?? new Date().toISOString(), commit, restarts },
    },
  });
  const error = `${services.join(", ")} ${services.length === 1 ? "is" : "are"} crash-looping: restarted ${restarts} times in ${span} s; left alone until the next commit, image or protocol start`;
  log.error(error);
  if (commit) await notifyDeploy(app, { event: "crash-looping", from: commit, to: commit, error });
}

/** `start`: a person asks for the services again; the crash-loop mark and the restart count go. */
export function clearHeal(app: App): void {
  const { heal } = readNodeState(app.paths.status);
  if (heal.crashLoop || Object.keys(heal.restarts).length > 0) {
    if (heal.crashLoop) log.info(`starting ${heal.crashLoop.services.join(", ")} again (they were crash-looping)`);
    updateNodeState(app.paths.status, { heal: { restarts: {}, crashLoop: null } });
  }
}

export function recordRecovery(app: App, recovery: Recovery): void {
  updateNodeState(app.paths.status, { lastRecovery: recovery });
}

/** A fetch ran out of room (its sizes), or null: one completed, and the hold is lifted. */
export function recordDiskFull(app: App, room: NodeState["diskFull"]): void {
  updateNodeState(app.paths.status, { diskFull: room });
}

export function recordRegistry(app: App, registry: NodeState["registry"]): void {
  updateNodeState(app.paths.status, { registry });
}

/** What the fleet gate decided to keep: the rollout's state, a record for the fleet, a hold's webhook. */
export async function recordGate(app: App, check: GateCheck, running: string | null): Promise<void> {
  if (check.rollout) updateNodeState(app.paths.status, { rollout: check.rollout });
  if (check.report || check.held) {
    const { queueReport } = await import("../fleet/report.ts");
    if (check.report) queueReport(app, check.report);
  }
  if (check.held) {
    await notifyDeploy(app, { event: "held", from: running, to: check.held.to, error: check.held.error });
  }
}

/** deploy:rollback by hand: its deploy record, the node on the good deploy, and the hold until start. */
export function recordManualRollback(
  app: App,
  done: { from: string | null; to: string; images: NodeState["images"]; backupRef: string | null },
  startedAt: Date,
  services: { running: string[]; completed: string[] } | null,
): void {
  appendDeploy(app.paths.deploys, {
    from: done.from,
    to: done.to,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    result: "deployed",
    reason: "rollback",
    keptAs: done.backupRef,
    images: done.images,
    rolledBackTo: done.to,
  });
  updateNodeState(app.paths.status, {
    deployedCommit: done.to,
    deployedConfigHash: configHash(app),
    images: done.images,
    ...(services ? { services } : {}),
    // A deploy cut short before this is over: a later deploy of its commit is a new one (its hooks run).
    deploying: null,
    hooksDone: null,
    paused: {
      at: new Date().toISOString(),
      reason: `deploy:rollback from ${shortSha(done.from)} to ${shortSha(done.to)}`,
      commit: done.to,
    },
  });
}

/** A person's start or git:slave: the hold and the quarantine are lifted. */
export function recordResume(app: App): void {
  updateNodeState(app.paths.status, { paused: null, quarantine: null });
}

/** While nothing changes, the poll's record (lastSync.at, remoteSeenAt) is refreshed at most this often. */
export const QUIET_WRITE_MS = 60_000;

/** What one pass leaves in the node's state file, and the loop's log line about it. */
export function recordOutcome(app: App, result: SyncOutcome, durationMs: number, announce: boolean): void {
  const previous = readNodeState(app.paths.status);
  const failing = result.result === "unreachable" || result.result === "disk-full" || result.result === "error";
  const failures = failing ? previous.failures + 1 : 0;
  const now = new Date();
  const news = announce ? newsOfSync(previous, result, now.getTime()) : null;
  const same =
    news === null &&
    previous.lastSync?.result === result.result &&
    previous.lastSync.error === result.error &&
    previous.failures === failures &&
    (!result.remoteCommit || result.remoteCommit === previous.remoteCommit) &&
    now.getTime() - Date.parse(previous.lastSync.at) < QUIET_WRITE_MS;
  // The idle poll writes nothing: an unchanged record is rewritten once a minute, without fsync.
  if (!same) {
    writeNodeState(
      app.paths.status,
      {
        ...previous,
        ...(result.remoteCommit ? { remoteCommit: result.remoteCommit, remoteSeenAt: now.toISOString() } : {}),
        lastSync: { at: now.toISOString(), result: result.result, error: result.error, durationMs },
        failures,
        ...(news ? { announced: { result: result.result, error: result.error, at: now.toISOString() } } : {}),
      },
      false,
    );
  }
  if (news) announceSync(result, durationMs, previous, news, failures);
}
