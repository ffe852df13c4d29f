import { configHash } from "../config-repo/hash.ts";
import { errorMessage, NetworkError, ProtocolError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import type { DeployRequest } from "../deploy/deploy.ts";
import { isQuarantined } from "../deploy/quarantine.ts";
import { composeFiles, findCompose } from "../docker/docker.ts";
import { gitContext } from "../git/auth.ts";
import {
  aheadBehind,
  currentBranch,
  ensureFetched,
  type GitContext,
  gitDir,
  headCommit,
  lsRemoteBranch,
  trackedChanges,
} from "../git/git.ts";
import type { NodeState, SyncResult } from "../schema/state.ts";
import { type App, loadApp, pollInterval, protocolJsonAt } from "../app/app.ts";
import { classifyLocalWork } from "../git/classify.ts";
import { pauseForTests } from "./journal.ts";
import { localFilesInTheWay, localFilesRefusal } from "./local-files.ts";
import { acquireLock, describeHolder } from "../app/lock.ts";
import { moveWorkingCopy } from "./move.ts";
import { recoverInterruptedMove } from "./recover.ts";
import { readNodeState, updateNodeState } from "../app/state.ts";
import { recordOutcome } from "./sync-record.ts";
import { resolveTarget, type SyncTarget } from "./target.ts";

// The deploy path (deploy, prepull, registry checks) is imported when a poll needs it: the loop
// spends its life on idle polls, and every module it loads stays in its memory (bench/memory.ts).

export type DirtyPolicy = "refuse" | "stash";
export type DivergedPolicy = "refuse" | "reset";

export interface SyncOptions {
  command: string;
  onDirty?: DirtyPolicy;
  onDiverged?: DivergedPolicy;
  /** How long to wait for another sync holding the app's lock. */
  lockWaitMs?: number;
  /** Log a refusal or failure when it starts or changes (the loop); one-shot commands report it themselves. */
  announce?: boolean;
  /** Resolved once by the slave loop; resolved per call otherwise. */
  target?: SyncTarget;
  /** The loop's stop signal: after SIGTERM the step in progress finishes, but no new move starts. */
  signal?: AbortSignal;
  /** false (git:pull --now): a new commit is deployed at once, whatever the rollout's waves and holds say. */
  rollout?: boolean;
  /** The loop's interval (--interval), for the pace of rollout re-checks; git.interval otherwise. */
  intervalSeconds?: number;
}

export interface SyncOutcome {
  result: SyncResult;
  /** HEAD before the sync and after it. */
  from: string | null;
  to: string | null;
  remoteCommit: string | null;
  error: string | null;
  hint?: string;
  /** Stash commit or backup ref that holds work moved aside, when an opt-in policy moved it. */
  keptAs: string | null;
  fetched: boolean;
  composeRan: boolean;
}

const APP_HINTS = {
  dirty: "commit or stash them, or run with --on-dirty=stash",
  ahead: "push or drop them, or run with --on-diverged=reset (keeps a backup ref)",
};

function outcome(partial: Partial<SyncOutcome> & Pick<SyncOutcome, "result">): SyncOutcome {
  return {
    from: null,
    to: null,
    remoteCommit: null,
    error: null,
    keptAs: null,
    fetched: false,
    composeRan: false,
    ...partial,
  };
}

/** Deploy the checked-out commit and turn the result into the sync's outcome. */
async function deploy(app: App, request: DeployRequest): Promise<SyncOutcome> {
  const { deployApp } = await import("../deploy/deploy.ts");
  const result = await deployApp(app, request);
  return outcome({
    result: result.result === "deployed" ? "deployed" : result.result === "rolled-back" ? "rolled-back" : "error",
    from: request.from,
    to: result.rolledBackTo ?? request.to,
    error: result.error,
    hint: result.hint,
    keptAs: request.keptAs ?? null,
    composeRan: result.composeRan,
  });
}

function quarantined(state: NodeState, commit: string, base: Partial<SyncOutcome>): SyncOutcome {
  return outcome({
    ...base,
    result: "quarantined",
    error: `${shortSha(commit)} failed to deploy (${state.quarantine?.reason}); ${
      state.quarantine?.rolledBackTo
        ? `the node went back to ${shortSha(state.quarantine.rolledBackTo)}`
        : "nothing was rolled back"
    }; skipped until a new commit arrives`,
    hint: "push a fix; the node deploys the next commit",
  });
}

async function syncLocked(
  app: App,
  options: SyncOptions,
  ctx: GitContext,
  seen: { remoteCommit: string | null },
): Promise<SyncOutcome> {
  // A move cut short (kill -9, full disk) is finished before anything else looks at the working copy.
  const recovery = await recoverInterruptedMove(app, ctx, await gitDir(ctx));
  if (recovery) updateNodeState(app.paths.status, { lastRecovery: recovery });
  const state = readNodeState(app.paths.status);
  const paused = state.paused;
  if (paused) {
    return outcome({
      result: "paused",
      error: `held at ${shortSha(paused.commit)} since ${paused.at}: ${paused.reason}`,
      hint: "run protocol start (or git:slave) to follow the remote again",
    });
  }
  const target = options.target ?? (await resolveTarget(app, ctx));
  const remoteCommit = await lsRemoteBranch(ctx, target.remote, target.branch);
  // Recorded even when a later step throws: status shows where the remote is, whatever failed here.
  seen.remoteCommit = remoteCommit;
  if (!remoteCommit) {
    return outcome({
      result: "error",
      error: `branch ${target.branch} does not exist on ${target.remote}`,
      hint: "push it, or set git.branch in protocol.json",
    });
  }
  const head = await headCommit(ctx);
  if (head === remoteCommit) {
    // The idle poll ends here: one ls-remote, no fetch, no docker.
    // A changed config repo (a file edited on the box, a relink) redeploys too: compose must see it.
    const current = { from: head, to: head, remoteCommit };
    if (state.deployedCommit === head && state.deployedConfigHash === configHash(app)) {
      // Floating image tags: one HTTP HEAD per image to its registry, no docker call.
      const update = state.images.some((image) => image.digest)
        ? await (await import("../deploy/image-updates.ts")).checkImageUpdates(app, state)
        : null;
      if (!update || isQuarantined(state, head, update.digests)) return outcome({ result: "up-to-date", ...current });
      if (app.config.docker?.updates === "notify") return outcome({ result: "up-to-date", ...current });
      return {
        ...(await deploy(app, { from: head, to: head, reason: "image", digests: update.digests })),
        remoteCommit,
      };
    }
    if (isQuarantined(state, head, null)) return quarantined(state, head, current);
    if (composeFiles(app).length > 0) await findCompose();
    return {
      ...(await deploy(app, {
        from: state.deployedCommit,
        to: head,
        reason: state.deployedCommit === head ? "config" : "commit",
      })),
      remoteCommit,
    };
  }
  if (isQuarantined(state, remoteCommit, null))
    return quarantined(state, remoteCommit, { from: head, to: head, remoteCommit });
  if (app.config.rollout && options.rollout !== false) {
    // Staggered rollouts: the node's wave, then the fleet record's verdict (canary failed, frozen).
    const { rolloutGate } = await import("../fleet/gate.ts");
    const intervalSeconds = pollInterval(app, options.intervalSeconds);
    const gate = await rolloutGate(app, state, { head, remoteCommit, ctx, intervalSeconds });
    if (gate)
      return outcome({ from: head, to: head, remoteCommit, result: gate.result, error: gate.message, hint: gate.hint });
  }

  const fetched = await ensureFetched(ctx, target.remote, target.branch, remoteCommit);
  const base = { from: head, to: head, remoteCommit, fetched };
  const branch = await currentBranch(ctx);
  if (branch !== target.branch) {
    return outcome({
      ...base,
      result: "error",
      error: `the working copy is on ${branch ? `branch ${branch}` : "a detached HEAD"}, but protocol follows ${target.branch}`,
      hint: `check out ${target.branch} (git switch ${target.branch}), or set git.branch`,
    });
  }
  const changes = await trackedChanges(ctx);
  const { ahead, behind } = head ? await aheadBehind(ctx, head, remoteCommit) : { ahead: 0, behind: 1 };
  // HEAD is what protocol deployed from the remote, so commits the remote no longer has are the
  // remote's own history, rewound or rewritten (a rollback by force-push): follow it.
  const follow =
    ahead > 0 && head !== null && head === state.deployedCommit ? (behind === 0 ? "rewind" : "rewrite") : null;

  // Decide everything before acting, so an opt-in never moves work aside for a sync that then refuses.
  const refusal = classifyLocalWork(
    { changes, ahead: follow ? 0 : ahead, behind },
    `${target.remote}/${target.branch}`,
    { dirty: options.onDirty === "stash", ahead: options.onDiverged === "reset" },
    APP_HINTS,
  );
  if (refusal) return outcome({ ...base, ...refusal });
  const inTheWay = await localFilesInTheWay(ctx, head, remoteCommit);
  if (inTheWay.length > 0 && options.onDirty !== "stash")
    return outcome({ ...base, ...localFilesRefusal(inTheWay, remoteCommit) });
  const { bytesToWrite, lackOfRoom, STATE_DIR_NEEDS } = await import("./room.ts");
  const tight = await lackOfRoom([
    { path: app.dir, need: await bytesToWrite(ctx, head, remoteCommit) },
    { path: app.paths.root, need: STATE_DIR_NEEDS },
  ]);
  if (tight) return outcome({ ...base, result: "error", ...tight });
  const incoming = await protocolJsonAt(ctx, remoteCommit);
  const { pullIncoming } = await import("../deploy/prepull.ts");
  const pulled = await pullIncoming(app, ctx, remoteCommit, incoming);

  await pauseForTests("before-move");
  if (options.signal?.aborted) {
    return outcome({
      ...base,
      result: "error",
      error: "stopping: the working copy was not moved (the signal came before the move)",
      hint: "the next start moves it",
    });
  }
  // beforeMove hooks (drain, backups) with the protocol.json on disk; a failure moves nothing.
  const hooks = app.config.deploy?.hooks?.beforeMove?.length
    ? await (await import("../deploy/hooks.ts")).beforeMove(app, {
        from: head,
        to: remoteCommit,
        reason: follow ?? "commit",
      })
    : null;
  if (hooks?.error)
    return outcome({
      ...base,
      result: "error",
      error: `${hooks.error.message}; nothing was moved`,
      hint: hooks.error.hint,
    });
  const kept = await moveWorkingCopy(app, ctx, {
    from: head,
    to: remoteCommit,
    upstream: `${target.remote}/${target.branch}`,
    stash: changes.length > 0,
    localFiles: inTheWay,
    reset: ahead > 0,
    follow,
  });
  // Deploy with the protocol.json that just arrived (validated above), not the one loaded before.
  return {
    ...(await deploy(loadApp(app.dir), {
      from: head,
      to: remoteCommit,
      keptAs: kept.join(", ") || null,
      pulled,
      hooksRan: hooks?.runs,
      ...(follow ? { reason: follow } : {}),
    })),
    remoteCommit,
    fetched,
  };
}

/** One sync: ls-remote, and on a change fetch, classify, fast-forward and deploy. Never throws for sync outcomes. */
export async function syncNode(app: App, options: SyncOptions): Promise<SyncOutcome> {
  const started = Date.now();
  const lock = await acquireLock(app.paths.syncLock, {
    command: options.command,
    waitMs: options.lockWaitMs ?? 0,
    onWait: (holder) => log.info(`waiting for the lock held by ${describeHolder(holder)}`),
  });
  let result: SyncOutcome;
  const seen = { remoteCommit: null as string | null };
  try {
    result = await syncLocked(app, options, gitContext(app), seen);
  } catch (error) {
    result = outcome({
      remoteCommit: seen.remoteCommit,
      result: error instanceof NetworkError ? "unreachable" : "error",
      error: errorMessage(error),
      hint: error instanceof ProtocolError ? error.hint : undefined,
    });
  } finally {
    lock.release();
  }
  recordOutcome(app, result, Date.now() - started, options.announce ?? false);
  // The node's fleet record goes out after the sync, outside its lock: a slow status remote delays no deploy.
  if (app.config.rollout?.statusRemote) await (await import("../fleet/report.ts")).flushReport(app);
  return result;
}
