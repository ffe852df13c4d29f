/**
 * Running a deploy plan's steps in order: pull, beforeMove, move, up, afterUp, the gate,
 * afterHealthy. A failure after the working copy or the containers changed goes back to the plan's
 * rollback target (commit and image digests) and runs afterRollback; a failure before anything
 * changed, or one that is the infrastructure's fault, undoes nothing and is retried. The steps
 * write no state: the run's result goes back to the pass, which records it (record.ts). Only a
 * hook step that passed is recorded at once (through `onHookDone`), so a deploy cut short never
 * runs it twice.
 */
import { type App, loadApp } from "../app/app.ts";
import { errorMessage, ProtocolError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import { isInfrastructureFault } from "../deploy/fault.ts";
import { waitForGate } from "../deploy/health.ts";
import { assertHookEnvAt, type HookFacts, HookFailedError, type HookProgress, runHooks } from "../deploy/hooks.ts";
import { type IncomingSteps, incomingScripts } from "../deploy/hooks-incoming.ts";
import { pullIncoming } from "../deploy/prepull.ts";
import { rollbackTo } from "../deploy/rollback.ts";
import type { Settled } from "../deploy/settle.ts";
import { pullImages, upServices } from "../deploy/up.ts";
import { runningImages, type ServiceImage } from "../docker/containers.ts";
import { type ComposeCli, composeFiles } from "../docker/docker.ts";
import type { GitContext } from "../git/git.ts";
import type { HookRun } from "../schema/state.ts";
import { pauseForTests } from "./journal.ts";
import { moveWorkingCopy } from "./move.ts";
import type { DeployPlan, Step } from "./plan.ts";
import { protocolJsonAt, withIncomingSettings } from "./protocol-json-at.ts";

export interface DeployRun {
  id: string;
  plan: DeployPlan;
  /** "error": the infrastructure failed, or a step before anything changed: retried, nothing undone. */
  result: "deployed" | "failed" | "rolled-back" | "error";
  error: string | null;
  hint?: string;
  rolledBackTo: string | null;
  /** Each service's image digest after the deploy (or after the rollback). */
  images: ServiceImage[];
  /** The services running (and the one-shots finished) after the gate (or the rollback's). */
  services: Settled | null;
  hooks: HookRun[];
  keptAs: string | null;
  composeRan: boolean;
  /** An afterHealthy step failed: the deploy stands, the webhook hears of it. */
  hookFailed: string | null;
  /** When the pass that runs it began: a deploy's time is from there to healthy (or to its rollback). */
  startedAt: Date;
  durationMs: number;
  /** The working copy moved or `up` ran: false when it failed before anything changed. */
  changed: boolean;
}

export interface DeployContext {
  app: App;
  ctx: GitContext;
  /** "origin/main", for the move's log lines. */
  upstream: string;
  /** The images recorded at the good deploy a failure goes back to. */
  goodImages: ServiceImage[];
  /** This deploy's id and the hook steps it finished before it was cut short. */
  id: string;
  hooksDone: ReadonlySet<string>;
  onHookDone(key: string): void;
  signal?: AbortSignal;
  startedAt: Date;
  /** The compose project the deploy brings up, before `up` runs (kept with the node: a rename never orphans it). */
  onProject(project: string): void;
}

async function imagesOrNone(app: App): Promise<ServiceImage[]> {
  try {
    return await runningImages(app);
  } catch (error) {
    log.warn(`could not record the running image digests: ${errorMessage(error)}`);
    return [];
  }
}

/** Run the plan's deploy steps; never throws for a deploy outcome. */
export async function runDeploy(plan: DeployPlan, steps: Step[], dc: DeployContext): Promise<DeployRun> {
  let app = dc.app;
  const facts: HookFacts = { from: plan.from, to: plan.to, reason: plan.reason };
  const hooks: HookRun[] = [];
  const done = new Set(dc.hooksDone);
  const progress: HookProgress = {
    done,
    onDone: (key) => {
      done.add(key);
      dc.onHookDone(key);
    },
  };
  const run: DeployRun = {
    id: dc.id,
    plan,
    result: "deployed",
    error: null,
    rolledBackTo: null,
    images: [],
    services: null,
    hooks,
    keptAs: null,
    composeRan: false,
    hookFailed: null,
    startedAt: dc.startedAt,
    durationMs: 0,
    changed: false,
  };
  let cli: ComposeCli | null = null;
  let scripts: IncomingSteps | null = null;
  // Until the move (or, without one, until up) nothing has changed: a failure there undoes nothing.
  let current: Step | null = null;
  try {
    for (const step of steps) {
      current = step;
      if (step.kind === "pull" && step.incoming) {
        // The commit's protocol.json, validated before anything moves, and the .env its hooks read;
        // its compose files' images pulled.
        const incoming = await protocolJsonAt(dc.ctx, plan.to);
        await assertHookEnvAt(dc.ctx, plan.to, incoming);
        await pullIncoming(app, dc.ctx, plan.to, incoming);
        // Its hooks run around its move (beforeMove too): a push can fix a hook a push broke.
        app = withIncomingSettings(app, incoming);
        scripts = await incomingScripts(app, dc.ctx, plan.to, incoming);
      } else if (step.kind === "pull") {
        await assertHookEnvAt(dc.ctx, plan.to, app.config);
        if (composeFiles(app).length > 0) await pullImages(app);
      } else if (step.kind === "hooks" && step.point === "afterHealthy") {
        try {
          await runHooks(app, "afterHealthy", facts, hooks, progress);
        } catch (error) {
          run.hookFailed = errorMessage(error);
          log.error(`${run.hookFailed} (the deploy stands)`);
        }
      } else if (step.kind === "hooks") {
        const argv = step.point === "beforeMove" ? scripts?.argv : undefined;
        await runHooks(app, step.point, facts, hooks, progress, argv);
      } else if (step.kind === "move") {
        await pauseForTests("before-move");
        if (dc.signal?.aborted) {
          return {
            ...run,
            result: "error",
            error: "stopping: the working copy was not moved (the signal came before the move)",
            hint: "the next start moves it",
          };
        }
        run.changed = true;
        const kept = await moveWorkingCopy(app, dc.ctx, {
          from: plan.from,
          to: plan.to,
          upstream: dc.upstream,
          stash: step.stash,
          localFiles: step.localFiles,
          reset: step.reset,
          follow: step.follow,
        });
        run.keptAs = kept.join(", ") || null;
        // The steps from here on run with the protocol.json that just arrived (validated above).
        app = loadApp(app.dir);
      } else if (step.kind === "up") {
        run.changed = true;
        run.composeRan = composeFiles(app).length > 0;
        if (run.composeRan) dc.onProject(app.project);
        if (run.composeRan) cli = await upServices(app);
        else log.info("no compose file in the app: docker steps skipped");
      } else if (step.kind === "wait" && cli) {
        run.services = await waitForGate(app, cli);
        run.durationMs = Date.now() - dc.startedAt.getTime();
      }
    }
    if (run.composeRan) run.images = await imagesOrNone(app);
    if (run.durationMs === 0) run.durationMs = Date.now() - dc.startedAt.getTime();
    return run;
  } catch (caught) {
    const failed = await fail(run, app, caught, current, run.changed, dc);
    return { ...failed, durationMs: Date.now() - dc.startedAt.getTime() };
  } finally {
    scripts?.dispose();
  }
}

async function fail(
  run: DeployRun,
  app: App,
  caught: unknown,
  step: Step | null,
  changed: boolean,
  dc: DeployContext,
): Promise<DeployRun> {
  const { plan } = run;
  const error = errorMessage(caught);
  const hint = caught instanceof ProtocolError ? caught.hint : undefined;
  const beforeMove = step?.kind === "hooks" && step.point === "beforeMove" && caught instanceof HookFailedError;
  const infrastructure = !changed || (await isInfrastructureFault(caught));
  if (!changed) {
    const what = beforeMove ? "nothing was moved" : "nothing was changed; retried next poll";
    log.error(`deploy of ${shortSha(plan.to)} could not start: ${error} (${what})`);
    return { ...run, result: "error", error: beforeMove ? `${error}; ${what}` : error, hint };
  }
  if (infrastructure) {
    log.error(`deploy of ${shortSha(plan.to)} could not run: ${error} (not the commit's fault: retried with backoff)`);
    return { ...run, result: "error", error, hint };
  }
  log.error(`deploy of ${shortSha(plan.to)} failed: ${error}`);
  const good = plan.rollbackTo;
  if (!good) return { ...run, result: "failed", error, hint };
  try {
    const back = await rollbackTo(app, { commit: good, images: dc.goodImages });
    const hooks = run.hooks;
    try {
      await runHooks(back.app, "afterRollback", { from: plan.to, to: good, reason: "rollback" }, hooks, {
        done: new Set(),
        onDone: () => undefined,
      });
    } catch (hookError) {
      log.error(`${errorMessage(hookError)} (the rollback stands)`);
    }
    return {
      ...run,
      result: "rolled-back",
      error,
      hint,
      rolledBackTo: good,
      images: dc.goodImages,
      services: back.services,
    };
  } catch (rollbackError) {
    return {
      ...run,
      result: "failed",
      error: `${error}; the rollback to ${shortSha(good)} failed too: ${errorMessage(rollbackError)}`,
      hint,
    };
  }
}
