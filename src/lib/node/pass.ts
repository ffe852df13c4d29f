/**
 * One pass of the reconcile loop, under the app's sync lock: observe, decide, execute. A plan that
 * needs to see more (a cut-short move finished, a fetch, the registry, the fleet record) has its
 * step run and is decided again with what it saw; a final plan is executed (execute.ts), and what
 * happened is recorded through record.ts and nowhere else. `start`, `restart`, `git:pull` and every
 * poll of the background loop run the same pass.
 */
import { type App, pollInterval } from "../app/app.ts";
import { readNodeState } from "../app/state.ts";
import { configHash } from "../config-repo/hash.ts";
import type { ConfigObservation, ConfigSyncOutcome } from "../config-repo/sync.ts";
import { FetchDiskFullError } from "../core/disk-reserve.ts";
import { gitContext } from "../git/auth.ts";
import { lockApp } from "../git/checkout-lock.ts";
import { type GitContext, gitDir } from "../git/git.ts";
import { decide } from "./decide.ts";
import { execute } from "./execute.ts";
import { HEAL_DEFAULTS } from "./heal.ts";
import { type Eyes, failure, observe, observeIncoming } from "./observe.ts";
import type { DirtyPolicy, DivergedPolicy, SyncOutcome } from "./outcome.ts";
import type { Observed, Policy, Step, StepKind } from "./plan.ts";
import { clearHeal, recordDiskFull, recordGate, recordOutcome, recordRecovery, recordRegistry } from "./record.ts";
import { resolveTarget, type SyncTarget } from "./target.ts";

// The deploy path (execute-deploy, prepull, registry checks) is imported when a pass needs it: the
// loop spends its life on idle passes, and every module it loads stays in its memory (bench/memory.ts).

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
      if (recovery) recordRecovery(app, recovery);
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
      const { ensureFetched } = await import("../git/fetch.ts");
      try {
        along.fetched = await ensureFetched(ctx, o.remote.name, o.remote.branch, to);
      } catch (error) {
        // Out of room: the sizes are kept, so the next passes do not fetch it again until there is more.
        if (error instanceof FetchDiskFullError) recordDiskFull(app, error.room);
        // A fetch that fails stops the new commit, not the heal of the current one: decided again as such.
        return { ...o, remote: { ...o.remote, failed: failure(error) } };
      }
      if (o.recorded.diskFull) recordDiskFull(app, null);
      return { ...o, incoming: await observeIncoming(eyes, o.head, to) };
    }
    case "check-images": {
      // Floating image tags: one HTTP HEAD per image to its registry, no docker call.
      const { checkImageUpdates } = await import("../deploy/image-updates.ts");
      const check = await checkImageUpdates(app, readNodeState(app.paths.status), o.now);
      if (check.registry) recordRegistry(app, check.registry);
      return { ...o, imageUpdate: check.update };
    }
    case "check-gate": {
      // Staggered rollouts: the node's wave, then the fleet record's verdict (canary failed, frozen).
      const { rolloutGate } = await import("../fleet/gate.ts");
      const state = readNodeState(app.paths.status);
      const intervalSeconds = pollInterval(app, options.intervalSeconds);
      // The incoming commit's rollout settings: a push can fix a statusRemote a push broke.
      const { withIncomingSettings } = await import("./protocol-json-at.ts");
      const check = await rolloutGate(withIncomingSettings(app, o.incoming?.config), state, {
        head: o.head,
        remoteCommit: o.remote.commit!,
        ctx,
        intervalSeconds,
        now: o.now,
      });
      await recordGate(app, check, state.deployedCommit);
      return { ...o, gate: check.gate };
    }
    default:
      return { ...o, done };
  }
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
  if (policy.start === "start") clearHeal(app);
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
      ...failure(error),
      from: null,
      to: null,
      remoteCommit: seen.remoteCommit,
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
