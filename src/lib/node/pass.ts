/**
 * One pass of the reconcile loop, under the app's sync lock: observe, decide, execute. A plan that
 * needs to see more (a cut-short move finished, a fetch, the registry, the fleet record) has its
 * step run and is decided again with what it saw; a final plan is executed, and what it did is
 * recorded here and nowhere else (record.ts). `start`, `restart`, `git:pull` and every poll of the
 * background loop run the same pass.
 */
import { type App, loadApp, pollInterval } from "../app/app.ts";
import { lockApp } from "../app/lock.ts";
import { readNodeState } from "../app/state.ts";
import { configHash } from "../config-repo/hash.ts";
import type { ConfigObservation, ConfigSyncOutcome } from "../config-repo/sync.ts";
import { errorMessage, NetworkError, ProtocolError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { gitContext } from "../git/auth.ts";
import { ensureFetched, type GitContext, gitDir, headCommit } from "../git/git.ts";
import type { NodeState } from "../schema/state.ts";
import { decide, describeDown, HEAL_DEFAULTS, planDeploy } from "./decide.ts";
import { type Eyes, observe, observeIncoming } from "./observe.ts";
import type { DirtyPolicy, DivergedPolicy, SyncOutcome } from "./outcome.ts";
import type { Observed, Plan, Policy, Step, StepKind } from "./plan.ts";
import { recordOutcome } from "./sync-record.ts";
import { resolveTarget, type SyncTarget } from "./target.ts";

// The deploy path (execute-deploy, prepull, registry checks), the recovery of a cut-short move and the
// records of what a step did (record.ts) are imported when a pass needs them: the loop spends its life
// on idle passes, and every module it loads stays in its memory (bench/memory.ts). An idle pass records
// its outcome only (sync-record.ts).

export interface PassOptions {
  command: string;
  onDirty?: DirtyPolicy;
  onDiverged?: DivergedPolicy;
  /** How long to wait for another pass holding the app's lock. */
  lockWaitMs?: number;
  /** Log an outcome when it starts or changes (the loop); one-shot commands report it themselves. */
  announce?: boolean;
  /** Resolved once by the loop; resolved per call otherwise. */
  target?: SyncTarget;
  /** The loop's stop signal: after SIGTERM the step in progress finishes, but no new move starts. */
  signal?: AbortSignal;
  /** false (git:pull --now): a new commit is deployed at once, whatever the rollout's waves and holds say. */
  rollout?: boolean;
  /** The loop's interval (--interval), for the pace of rollout re-checks; git.interval otherwise. */
  intervalSeconds?: number;
  /** "start": a person's start; "restart": the @reboot path. Both start what is stopped at once. */
  start?: "start" | "restart" | null;
  /** Follow the app's remote (default true). */
  followApp?: boolean;
  /** Follow the config repo's remote too (the loop; one-shot commands leave it to the loop). */
  followConfig?: boolean;
  /** The clock (epoch ms) for what is decided by time: rollout waves, heal backoff. Tests pass their own. */
  clock?: () => number;
}

export function passPolicy(app: App, options: PassOptions): Policy {
  const docker = app.config.docker;
  return {
    onDirty: options.onDirty ?? "refuse",
    onDiverged: options.onDiverged ?? "refuse",
    rollout: options.rollout !== false,
    staged: app.config.rollout !== undefined,
    // Healing goes with following the app: git:slave:stop leaves the containers alone.
    keepRunning: docker?.keepRunning !== false && options.followApp !== false,
    heal: { ...HEAL_DEFAULTS, ...docker?.heal },
    updates: docker?.updates ?? "auto",
    stopping: options.signal?.aborted ?? false,
    start: options.start ?? null,
  };
}

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

/** The config part of a pass: what it saw of the config repo, and what following it came to. */
interface ConfigPart {
  seen: ConfigObservation | null;
  outcome: ConfigSyncOutcome | null;
}

/** What the observing steps did, for the outcome: whether the fetch brought anything. */
interface Along {
  fetched: boolean;
  config: ConfigPart;
}

/** Run an observing step and return what the pass sees after it. */
async function observeMore(
  step: Step,
  o: Observed,
  eyes: Eyes,
  options: PassOptions,
  done: Set<StepKind>,
  along: Along,
): Promise<Observed> {
  const { app, ctx } = eyes;
  const { config } = along;
  done.add(step.kind);
  switch (step.kind) {
    case "recover": {
      // A move cut short (kill -9, full disk) is finished before anything else looks at the working copy.
      const { recoverInterruptedMove } = await import("./recover.ts");
      const recovery = await recoverInterruptedMove(app, ctx, eyes.dotGit);
      if (recovery) (await import("./record.ts")).recordRecovery(app, recovery);
      return observe(eyes, done, o.configRepo);
    }
    case "follow-config": {
      // The config repo moves first: the deploy this pass decides on sees its files.
      const { followConfigRepo } = await import("../config-repo/follow.ts");
      config.outcome = await followConfigRepo(app);
      const head = config.outcome.result === "updated" ? config.outcome.to : (o.configRepo?.head ?? null);
      return { ...o, configRepo: { ...o.configRepo!, head }, configHash: configHash(app), done };
    }
    case "fetch": {
      const to = o.remote.commit!;
      along.fetched = await ensureFetched(ctx, o.remote.name, o.remote.branch, to);
      return { ...o, incoming: await observeIncoming(eyes, o.head, to) };
    }
    case "check-images": {
      // Floating image tags: one HTTP HEAD per image to its registry, no docker call.
      const { checkImageUpdates } = await import("../deploy/image-updates.ts");
      const check = await checkImageUpdates(app, readNodeState(app.paths.status), o.now);
      if (check.registry) (await import("./record.ts")).recordRegistry(app, check.registry);
      return { ...o, imageUpdate: check.update };
    }
    case "check-gate": {
      // Staggered rollouts: the node's wave, then the fleet record's verdict (canary failed, frozen).
      const { rolloutGate } = await import("../fleet/gate.ts");
      const state = readNodeState(app.paths.status);
      const intervalSeconds = pollInterval(app, options.intervalSeconds);
      const check = await rolloutGate(app, state, {
        head: o.head,
        remoteCommit: o.remote.commit!,
        ctx,
        intervalSeconds,
        now: o.now,
      });
      await (await import("./record.ts")).recordGate(app, check, state.deployedCommit);
      return { ...o, gate: check.gate };
    }
    default:
      return { ...o, done };
  }
}

/** Start what stopped behind protocol's back: `up -d`, one line per service, counted for the backoff. */
async function heal(app: App, step: Extract<Step, { kind: "heal" }>, policy: Policy, now: number): Promise<string[]> {
  const names = step.services.map((s) => s.service);
  const { startStopped } = await import("../deploy/up.ts");
  const { recordHeal } = await import("./record.ts");
  try {
    await startStopped(app);
  } catch (error) {
    // Counted all the same: an engine that cannot start it is not asked again in a tight loop.
    recordHeal(app, now, policy.heal.windowSeconds);
    log.warn(`could not start ${names.join(", ") || "the services"} again: ${errorMessage(error)}`);
    return [];
  }
  recordHeal(app, now, policy.heal.windowSeconds);
  if (step.services.length === 0) log.info("no container of the deployed commit was there; started them");
  for (const s of step.services) log.info(`${s.service} was ${describeDown(s)}; started it`);
  return names;
}

async function executeDeploy(
  plan: Plan,
  where: { app: App; ctx: GitContext; upstream: string },
  options: Pick<PassOptions, "signal">,
  outcome: SyncOutcome,
  startedAt: Date,
): Promise<SyncOutcome> {
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
  return {
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
}

/** Run a final plan: its deploy, or its heal; the outcome says what happened. */
async function execute(
  plan: Plan,
  o: Observed,
  eyes: Eyes,
  policy: Policy,
  options: PassOptions,
  fetched: boolean,
  startedAt: Date,
): Promise<SyncOutcome> {
  const outcome = outcomeOf(o, plan, fetched);
  if (plan.deploy) {
    const upstream = `${o.remote.name}/${o.remote.branch}`;
    return executeDeploy(plan, { app: eyes.app, ctx: eyes.ctx, upstream }, options, outcome, startedAt);
  }
  for (const step of plan.steps) {
    if (step.kind === "heal") outcome.healed = await heal(eyes.app, step, policy, o.now);
    if (step.kind === "crash-loop") {
      const { recordCrashLoop } = await import("./record.ts");
      await recordCrashLoop(eyes.app, step.services, step.restarts, o.recorded.deployedCommit, o.now);
      outcome.crashLooping = step.services;
    }
  }
  return outcome;
}

/** The most rounds a pass takes to reach a final plan (each observing step runs at most once). */
const MAX_ROUNDS = 8;

async function passLocked(
  app: App,
  options: PassOptions,
  ctx: GitContext,
  seen: { remoteCommit: string | null },
  startedAt: Date,
  config: ConfigPart,
): Promise<SyncOutcome> {
  const target = options.target ?? (await resolveTarget(app, ctx));
  const policy = passPolicy(app, options);
  const eyes: Eyes = {
    app,
    ctx,
    dotGit: await gitDir(ctx),
    target,
    keepRunning: policy.keepRunning,
    followApp: options.followApp !== false,
    clock: options.clock ?? Date.now,
  };
  // A person's start asks for the services again: a crash-loop mark and the restart count go.
  if (policy.start === "start") (await import("./record.ts")).clearHeal(app);
  const done = new Set<StepKind>();
  const along: Along = { fetched: false, config };
  if (options.followConfig) {
    const { observeConfigRepo } = await import("../config-repo/sync.ts");
    config.seen = await observeConfigRepo(app);
  }
  const seenConfig = config.seen && !config.seen.problem ? config.seen : undefined;
  let o = await observe(eyes, done, seenConfig);
  // Recorded even when a later step throws: status shows where the remote is, whatever failed here.
  seen.remoteCommit = o.remote.commit;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const plan = decide(o, policy);
    if (!plan.again) return execute(plan, o, eyes, policy, options, along.fetched, startedAt);
    o = await observeMore(plan.steps[0]!, o, eyes, options, done, along);
  }
  throw new Error(`a pass did not come to a plan in ${MAX_ROUNDS} rounds`);
}

/** The config part's outcome when the pass did not have to follow it: up to date, or why it could not look. */
function configOutcome(config: ConfigPart): ConfigSyncOutcome | null {
  if (config.outcome) return config.outcome;
  const seen = config.seen;
  if (!seen) return null;
  if (seen.problem) return seen.problem;
  return { result: "up-to-date", branch: seen.branch, from: seen.head, to: seen.head, error: null };
}

/** One pass: observe, decide, execute, record. Never throws for a pass's outcome. */
export async function runPass(app: App, options: PassOptions): Promise<SyncOutcome> {
  const started = Date.now();
  const lock = await lockApp(app, options.command, options.lockWaitMs ?? 0);
  let result: SyncOutcome;
  const seen = { remoteCommit: null as string | null };
  const config: ConfigPart = { seen: null, outcome: null };
  try {
    result = await passLocked(app, options, gitContext(app), seen, new Date(started), config);
  } catch (error) {
    result = {
      result: error instanceof NetworkError ? "unreachable" : "error",
      from: null,
      to: null,
      remoteCommit: seen.remoteCommit,
      error: errorMessage(error),
      ...(error instanceof ProtocolError && error.hint ? { hint: error.hint } : {}),
      keptAs: null,
      fetched: false,
      composeRan: false,
      healed: [],
      crashLooping: [],
    };
  } finally {
    lock.release();
  }
  const followed = configOutcome(config);
  if (followed) {
    const { recordConfigPoll } = await import("../config-repo/sync.ts");
    recordConfigPoll(app, followed, Date.now() - started, options.announce ?? false);
  }
  recordOutcome(app, result, result.durationMs ?? Date.now() - started, options.announce ?? false);
  // The node's fleet record goes out after the pass, outside its lock: a slow status remote delays no deploy.
  if (app.config.rollout?.statusRemote) await (await import("../fleet/report.ts")).flushReport(app);
  return result;
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
    const done = await executeDeploy(plan, { app, ctx, upstream: "the working copy" }, {}, outcome, started);
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
