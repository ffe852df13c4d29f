/**
 * A pass's hands: a final plan run (its deploy, or its heal and crash-loop marks), and the deploys
 * that do not come from a remote (a development machine's start, config:switch's redeploy). What
 * happened is recorded through record.ts, and nowhere else.
 */
import type { App } from "../app/app.ts";
import { loadApp } from "../app/app.ts";
import { readNodeState } from "../app/state.ts";
import { configHash } from "../config-repo/hash.ts";
import { errorMessage } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { gitContext } from "../git/auth.ts";
import { lockApp } from "../git/checkout-lock.ts";
import { type GitContext, headCommit } from "../git/git.ts";
import type { NodeState } from "../schema/state.ts";
import { planDeploy } from "./decide.ts";
import { describeDown, healOnly } from "./heal.ts";
import type { Eyes } from "./observe.ts";
import type { SyncOutcome } from "./outcome.ts";
import type { Observed, Plan, Policy, Step } from "./plan.ts";
import { recordCrashLoop, recordHeal } from "./record.ts";

// The deploy path (execute-deploy, prepull, compose) is imported when a plan deploys: the loop
// spends its life on idle passes, and every module it loads stays in its memory (bench/memory.ts).

function outcomeOf(o: Observed, plan: Plan, fetched: boolean): SyncOutcome {
  return {
    result: plan.result,
    from: o.head,
    to: o.head,
    remoteCommit: o.remote.commit,
    error: plan.error,
    ...(plan.hint ? { hint: plan.hint } : {}),
    keptAs: null,
    fetched,
    composeRan: false,
    healed: [],
    crashLooping: [],
  };
}

/**
 * Start what stopped behind protocol's back, and only that: its stopped containers as they are
 * (`docker start`), a missing or dead service through compose (`up -d --no-deps <service>`). One line
 * per service; every try counts for the backoff, so an engine that cannot start it is not asked again
 * in a tight loop.
 */
async function heal(app: App, step: Extract<Step, { kind: "heal" }>, policy: Policy, now: number): Promise<string[]> {
  const names = step.services.map((s) => s.service);
  const { startContainers, upMissing } = await import("../deploy/up.ts");
  const containers = step.services.filter((s) => s.state !== "missing" && s.state !== "dead").flatMap((s) => s.ids);
  const viaCompose = step.services.filter((s) => s.state === "missing" || s.state === "dead").map((s) => s.service);
  try {
    if (containers.length > 0) await startContainers(containers);
    // No service named: a node an older protocol deployed, with no container at all: all of them.
    if (viaCompose.length > 0 || step.services.length === 0) await upMissing(app, viaCompose);
  } catch (error) {
    recordHeal(app, names, now, policy.heal.windowSeconds);
    log.warn(`could not start ${names.join(", ") || "the services"} again: ${errorMessage(error)}`);
    return [];
  }
  recordHeal(app, names, now, policy.heal.windowSeconds);
  if (step.services.length === 0) log.info("no container of the deployed commit was there; started them");
  for (const s of step.services) log.info(`${s.service} was ${describeDown(s)}; started it`);
  return names;
}

async function executeDeploy(
  plan: Plan,
  where: { app: App; ctx: GitContext; upstream: string },
  options: { signal?: AbortSignal },
  outcome: SyncOutcome,
  startedAt: Date,
): Promise<{ outcome: SyncOutcome; changed: boolean }> {
  const deploy = plan.deploy!;
  const { app, ctx } = where;
  const { runDeploy } = await import("./execute-deploy.ts");
  const { recordDeploy, recordDeployStart, recordHookDone, recordProject } = await import("./record.ts");
  const state = readNodeState(app.paths.status);
  const id = deploy.resume ?? crypto.randomUUID().slice(0, 8);
  const recorded = state.hooksDone;
  // A hooksDone written by an older protocol has no deploy id: it is the interrupted deploy's.
  const hooksDone =
    recorded && (recorded.deployId === id || (!recorded.deployId && recorded.to === deploy.to)) ? recorded.steps : [];
  recordDeployStart(app, { id, from: deploy.from, to: deploy.to, reason: deploy.reason });
  // Hashed before compose runs: the config these containers are brought up with.
  const hash = configHash(app);
  const run = await runDeploy(deploy, plan.steps, {
    app,
    ctx,
    upstream: where.upstream,
    goodImages: state.images,
    id,
    hooksDone: new Set(hooksDone),
    onHookDone: (key) => recordHookDone(app, id, deploy.to, key),
    onProject: (project) => recordProject(app, project),
    signal: options.signal,
    startedAt,
  });
  // Recorded with the protocol.json now on disk (the new commit's, or the good one's after a rollback).
  let now = app;
  try {
    now = loadApp(app.dir);
  } catch {
    // the one the pass started with
  }
  await recordDeploy(now, run, state, hash);
  const done: SyncOutcome = {
    ...outcome,
    result: run.result === "deployed" ? "deployed" : run.result === "rolled-back" ? "rolled-back" : "error",
    from: deploy.from,
    to: await headCommit(ctx),
    error: run.error,
    ...(run.hint ? { hint: run.hint } : {}),
    keptAs: run.keptAs,
    composeRan: run.composeRan,
    durationMs: run.durationMs,
  };
  return { outcome: done, changed: run.changed };
}

/** Run a final plan: its deploy, or its heal; the outcome says what happened. */
export async function execute(
  plan: Plan,
  o: Observed,
  eyes: Eyes,
  policy: Policy,
  options: { signal?: AbortSignal },
  fetched: boolean,
  startedAt: Date,
): Promise<SyncOutcome> {
  const outcome = outcomeOf(o, plan, fetched);
  let steps = plan.steps;
  if (plan.deploy) {
    const upstream = `${o.remote.name}/${o.remote.branch}`;
    const where = { app: eyes.app, ctx: eyes.ctx, upstream };
    const { outcome: deployed, changed } = await executeDeploy(plan, where, options, outcome, startedAt);
    // A deploy that could not even start (its images would not pull) changed nothing: the current
    // commit's services are healed all the same.
    if (deployed.result !== "error" || changed) return deployed;
    Object.assign(outcome, deployed);
    steps = healOnly(o, policy);
  }
  for (const step of steps) {
    if (step.kind === "heal") outcome.healed = await heal(eyes.app, step, policy, o.now);
    if (step.kind === "crash-loop") {
      await recordCrashLoop(eyes.app, step.services, step.restarts, o.recorded.deployedCommit, o.now);
      outcome.crashLooping = step.services;
    }
  }
  return outcome;
}

/** Deploy what is checked out, as it is, holding the lock: the same steps and records as a pass's deploy. */
async function deployCheckedOut(
  app: App,
  command: string,
  only?: (state: NodeState) => boolean,
): Promise<SyncOutcome | null> {
  const started = new Date();
  const lock = await lockApp(app, command);
  try {
    const state = readNodeState(app.paths.status);
    if (only && !only(state)) return null;
    const ctx = gitContext(app);
    const head = (await headCommit(ctx)) ?? "";
    const plan = planDeploy(state, head);
    const outcome: SyncOutcome = {
      result: "deployed",
      from: plan.deploy!.from,
      to: head,
      remoteCommit: null,
      error: null,
      keptAs: null,
      fetched: false,
      composeRan: false,
      healed: [],
      crashLooping: [],
    };
    const { outcome: done } = await executeDeploy(
      plan,
      { app, ctx, upstream: "the working copy" },
      {},
      outcome,
      started,
    );
    return done.result === "deployed" ? done : { ...done, result: "error" };
  } finally {
    lock.release();
  }
}

/** A development machine's start: bring up what is checked out, as it is (git is the developer's). */
export async function deployWorkingCopy(app: App): Promise<SyncOutcome> {
  return (await deployCheckedOut(app, "start"))!;
}

/**
 * After config:switch relinked: redeploy when the linked files differ from the last deploy's. A
 * node never deployed here is left alone; so is the remote (a new commit is the loop's to deploy).
 */
export async function redeployChangedConfig(app: App, command: string): Promise<SyncOutcome | null> {
  return deployCheckedOut(
    app,
    command,
    (state) => state.deployedCommit !== null && configHash(app) !== state.deployedConfigHash,
  );
}
