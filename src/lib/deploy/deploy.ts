import { configHash } from "../config-repo/hash.ts";
import {
  DiskFullError,
  errorMessage,
  MissingProgramError,
  NetworkError,
  ProtocolError,
  StepFailedError,
} from "../core/errors.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import { runningImages, type ServiceImage } from "../docker/containers.ts";
import { compose, composeFiles, composeProject, engineAnswers, findCompose } from "../docker/docker.ts";
import type { App } from "../app/app.ts";
import { appendDeploy, readNodeState, updateNodeState } from "../app/state.ts";
import type { DeployRecord, HookRun } from "../schema/state.ts";
import { checkHealth, upArgs } from "./health.ts";
import { type HookFacts, HookFailedError, runHooks } from "./hooks.ts";
import { notifyDeploy } from "./notify.ts";
import { rollbackTo } from "./rollback.ts";

export type DeployReason = DeployRecord["reason"];

export interface DeployRequest {
  /** The commit that was deployed before (null on a node's first deploy). */
  from: string | null;
  /** The commit now checked out, to bring up. */
  to: string;
  /** Work moved aside to make the deploy possible (stash commit, backup ref). */
  keptAs?: string | null;
  reason?: DeployReason;
  /** Images were pulled before the working copy moved (sync does that); skip the pull. */
  pulled?: boolean;
  /** For an image update: the registry digests that triggered it (quarantined if it fails). */
  digests?: Record<string, string> | null;
  /** The beforeMove hooks sync ran before it moved the working copy (they are not run again). */
  hooksRan?: HookRun[];
}

export interface DeployResult {
  ok: boolean;
  /** "error": the infrastructure failed (engine, registry, network, disk), not the commit: retried, nothing undone. */
  result: "deployed" | "failed" | "rolled-back" | "error";
  error: string | null;
  /** What to do about the error (the known cause's hint), when there is one. */
  hint?: string;
  composeRan: boolean;
  rolledBackTo: string | null;
}

async function imagesOrNone(app: App): Promise<ServiceImage[]> {
  try {
    return await runningImages(app);
  } catch (error) {
    log.warn(`could not record the running image digests: ${errorMessage(error)}`);
    return [];
  }
}

/**
 * Whether a failed deploy is the infrastructure's fault rather than the commit's: a known cause
 * (engine down, registry or network unreachable, full disk), a killed program, or any failure while
 * the engine does not answer. Such a deploy is retried with backoff: never quarantined, never
 * rolled back (there is nothing wrong to undo, and the engine could not do it anyway).
 */
async function isInfrastructureFault(error: unknown): Promise<boolean> {
  // A host step's failure is the commit's; a service step's is the engine's while it does not answer.
  if (error instanceof HookFailedError) return error.service !== null && !(await engineAnswers());
  if (error instanceof NetworkError || error instanceof DiskFullError || error instanceof MissingProgramError)
    return true;
  if (error instanceof StepFailedError && error.infrastructure) return true;
  return !(await engineAnswers());
}

/** Pull (unless done), up, the afterUp hooks, health gate. Throws when the new version does not come up healthy. */
async function bringUp(app: App, request: DeployRequest, facts: HookFacts, runs: HookRun[]): Promise<void> {
  const cli = await findCompose();
  if (!(request.pulled ?? false)) await compose(app, ["pull"]);
  await compose(app, upArgs(app, cli));
  await runHooks(app, "afterUp", facts, runs);
  await checkHealth(app, cli);
}

/** afterHealthy: a failure is logged and notified; the deploy stands. */
async function afterHealthy(app: App, facts: HookFacts, runs: HookRun[]): Promise<void> {
  try {
    await runHooks(app, "afterHealthy", facts, runs);
  } catch (error) {
    log.error(`${errorMessage(error)} (the deploy stands)`);
    await notifyDeploy(app, { event: "hook-failed", from: facts.from, to: facts.to, error: errorMessage(error) });
  }
}

/** afterRollback: after the rollback finished; a failure is logged, the rollback stands. */
async function afterRollback(app: App, facts: HookFacts, runs: HookRun[], deployTo: string): Promise<void> {
  try {
    await runHooks(app, "afterRollback", facts, runs, deployTo);
  } catch (error) {
    log.error(`${errorMessage(error)} (the rollback stands)`);
  }
}

/**
 * Bring the containers up for the commit now checked out and record the deploy. When it fails,
 * go back to the last good deploy (commit and image digests), quarantine what failed so later
 * polls skip it, and notify. Only called when something changed.
 */
export async function deployApp(app: App, request: DeployRequest): Promise<DeployResult> {
  const startedAt = new Date();
  // Hashed before compose runs: the config these containers were brought up with.
  const deployedConfigHash = configHash(app);
  const composeRan = composeFiles(app).length > 0;
  const previous = readNodeState(app.paths.status);
  let error: string | null = null;
  let hint: string | undefined;
  let result: DeployResult["result"] = "deployed";
  let rolledBackTo: string | null = null;
  let images: ServiceImage[] = [];
  if (!composeRan) log.info("no compose file in the app: docker steps skipped");
  updateNodeState(app.paths.status, {
    deploying: { from: request.from, to: request.to, since: startedAt.toISOString() },
    ...(composeRan ? { project: composeProject(app) } : {}),
  });
  const facts: HookFacts = { from: request.from, to: request.to, reason: request.reason ?? "commit" };
  const hooks: HookRun[] = [...(request.hooksRan ?? [])];
  try {
    // A deploy without a move (an image, the config) still gets its beforeMove hooks first: drain, then change.
    if (!request.hooksRan && (request.reason === "image" || request.reason === "config"))
      await runHooks(app, "beforeMove", facts, hooks);
    if (composeRan) await bringUp(app, request, facts, hooks);
    else await runHooks(app, "afterUp", facts, hooks);
    if (composeRan) images = await imagesOrNone(app);
  } catch (caught) {
    error = errorMessage(caught);
    hint = caught instanceof ProtocolError ? caught.hint : undefined;
    const infrastructure = await isInfrastructureFault(caught);
    result = infrastructure ? "error" : "failed";
    log.error(
      infrastructure
        ? `deploy of ${shortSha(request.to)} could not run: ${error} (not the commit's fault: retried with backoff)`
        : `deploy of ${shortSha(request.to)} failed: ${error}`,
    );
    const good = previous.deployedCommit;
    const beforeMoveFailed = hooks.at(-1)?.point === "beforeMove" && caught instanceof HookFailedError;
    if (!infrastructure && good && request.reason !== "rollback" && !beforeMoveFailed) {
      try {
        const back = await rollbackTo(app, { commit: good, images: previous.images });
        result = "rolled-back";
        rolledBackTo = good;
        images = previous.images;
        await afterRollback(back.app, { from: request.to, to: good, reason: "rollback" }, hooks, request.to);
      } catch (rollbackError) {
        error = `${error}; the rollback to ${shortSha(good)} failed too: ${errorMessage(rollbackError)}`;
      }
    }
    if (beforeMoveFailed) result = "error";
  }
  if (result === "deployed") await afterHealthy(app, facts, hooks);
  // The deploy is over (an infrastructure error is retried as the same deploy: its steps stay done).
  if (result !== "error") updateNodeState(app.paths.status, { hooksDone: null });
  appendDeploy(app.paths.deploys, {
    from: request.from,
    to: request.to,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    result,
    reason: request.reason ?? "commit",
    error,
    keptAs: request.keptAs ?? null,
    compose: composeRan,
    images,
    rolledBackTo,
    hooks,
  });
  if (app.config.rollout?.statusRemote) {
    const running =
      result === "deployed" ? request.to : result === "rolled-back" ? rolledBackTo : previous.deployedCommit;
    (await import("../fleet/report.ts")).queueReport(app, { commit: request.to, running, result, error });
  }
  if (result === "deployed") {
    updateNodeState(app.paths.status, {
      deployedCommit: request.to,
      deployedConfigHash,
      images,
      quarantine: null,
      deploying: null,
    });
  } else if (result === "error") {
    updateNodeState(app.paths.status, { deploying: null });
  } else {
    // Never a hot loop: the failed commit (or image digests) is skipped until the remote moves on.
    updateNodeState(app.paths.status, {
      deploying: null,
      quarantine: {
        commit: request.to,
        digests: request.digests ?? null,
        reason: error ?? "deploy failed",
        at: new Date().toISOString(),
        rolledBackTo,
      },
    });
  }
  await notifyDeploy(app, {
    event: result === "deployed" ? "succeeded" : result,
    from: request.from,
    to: request.to,
    error,
  });
  return { ok: result === "deployed", result, error, hint, composeRan, rolledBackTo };
}
