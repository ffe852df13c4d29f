import { loadApp, parseProtocolJson, PROTOCOL_JSON, type App } from "./app.ts";
import { deployApp } from "./deploy.ts";
import { composeFiles, findCompose } from "./docker.ts";
import { errorMessage, NetworkError, ProtocolError } from "./errors.ts";
import {
  aheadBehind,
  currentBranch,
  fetchBranch,
  git,
  gitDir,
  hasCommit,
  headCommit,
  lsRemoteBranch,
  mergeFastForward,
  resetHard,
  stashChanges,
  trackedChanges,
  updateRef,
  type GitContext,
} from "./git.ts";
import { gitContext } from "./git-auth.ts";
import { clearStaleIndexLock } from "./index-lock.ts";
import { acquireLock, describeHolder } from "./lock.ts";
import { log } from "./log.ts";
import { shortSha } from "./output.ts";
import type { SyncResult } from "./schema/state.ts";
import { readNodeState, updateNodeState } from "./state.ts";
import { resolveTarget, type SyncTarget } from "./target.ts";

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

function outcome(partial: Partial<SyncOutcome> & Pick<SyncOutcome, "result">): SyncOutcome {
  return { from: null, to: null, remoteCommit: null, error: null, keptAs: null, fetched: false, composeRan: false, ...partial };
}

/** Validate the incoming protocol.json before the working copy moves to it. */
async function assertValidConfigAt(ctx: GitContext, sha: string): Promise<void> {
  const shown = await git(ctx, ["show", `${sha}:${PROTOCOL_JSON}`]);
  if (shown.ok) parseProtocolJson(shown.stdout, `${PROTOCOL_JSON} at ${shortSha(sha)}`);
}

/** Deploy the checked-out commit and turn the result into the sync's outcome. */
async function deploy(app: App, from: string | null, to: string, keptAs: string | null): Promise<SyncOutcome> {
  const result = await deployApp(app, { from, to, keptAs });
  return outcome({ result: result.ok ? "deployed" : "error", from, to, error: result.error, keptAs, composeRan: result.composeRan });
}

async function syncLocked(app: App, options: SyncOptions, ctx: GitContext): Promise<SyncOutcome> {
  const target = options.target ?? (await resolveTarget(app, ctx));
  const remoteCommit = await lsRemoteBranch(ctx, target.remote, target.branch);
  if (!remoteCommit) {
    return outcome({ result: "error", error: `branch ${target.branch} does not exist on ${target.remote}`, hint: "push it, or set git.branch in protocol.json" });
  }
  const head = await headCommit(ctx);
  const state = readNodeState(app.paths.status);
  updateNodeState(app.paths.status, { remoteCommit, remoteSeenAt: new Date().toISOString() });
  if (head === remoteCommit) {
    // The idle poll ends here: one ls-remote, no fetch, no docker.
    if (state.deployedCommit === head) return outcome({ result: "up-to-date", from: head, to: head, remoteCommit });
    if (composeFiles(app).length > 0) await findCompose();
    return { ...(await deploy(app, state.deployedCommit, head, null)), remoteCommit };
  }

  let fetched = false;
  if (!(await hasCommit(ctx, remoteCommit))) {
    await fetchBranch(ctx, target.remote, target.branch);
    fetched = true;
  }
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

  // Decide everything before acting, so an opt-in never moves work aside for a sync that then refuses.
  if (changes.length > 0 && options.onDirty !== "stash") {
    return outcome({
      ...base,
      result: "dirty",
      error: `uncommitted changes to ${changes.length} tracked file(s): ${changes.slice(0, 3).map((c) => c.path).join(", ")}${changes.length > 3 ? ", …" : ""}`,
      hint: `commit or stash them, or run with --on-dirty=stash`,
    });
  }
  if (ahead > 0 && options.onDiverged !== "reset") {
    const result = behind > 0 ? "diverged" : "ahead";
    return outcome({
      ...base,
      result,
      error: `${ahead} local commit(s) not on ${target.remote}/${target.branch}${behind > 0 ? ` and ${behind} remote commit(s) not here` : ""}`,
      hint: `push or drop them, or run with --on-diverged=reset (keeps a backup ref)`,
    });
  }
  await assertValidConfigAt(ctx, remoteCommit);
  if (composeFiles(app).length > 0) await findCompose();

  clearStaleIndexLock(await gitDir(ctx), app.dir);
  const kept: string[] = [];
  if (changes.length > 0) {
    const stash = await stashChanges(ctx, `protocol: local changes before ${shortSha(remoteCommit)}`);
    kept.push(`stash ${stash}`);
    log.warn(`uncommitted changes moved aside: stash ${stash} (git stash list; git stash apply ${shortSha(stash)})`);
  }
  if (ahead > 0 && head) {
    const ref = `refs/protocol/backup/${new Date().toISOString().replace(/[:.]/g, "-")}`;
    await updateRef(ctx, ref, head);
    await resetHard(ctx, remoteCommit);
    kept.push(ref);
    log.warn(`local commits kept as ${ref} (${shortSha(head)}); the working copy now matches ${target.remote}/${target.branch}`);
  } else {
    await mergeFastForward(ctx, remoteCommit);
  }
  log.info(`moved ${shortSha(head)} → ${shortSha(remoteCommit)}`);
  // Deploy with the protocol.json that just arrived (validated above), not the one loaded before.
  return { ...(await deploy(loadApp(app.dir), head, remoteCommit, kept.join(", ") || null)), remoteCommit, fetched };
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
  try {
    result = await syncLocked(app, options, gitContext(app));
  } catch (error) {
    result = outcome({
      result: error instanceof NetworkError ? "unreachable" : "error",
      error: errorMessage(error),
      hint: error instanceof ProtocolError ? error.hint : undefined,
    });
  } finally {
    lock.release();
  }
  recordOutcome(app, result, Date.now() - started, options.announce ?? false);
  return result;
}

function recordOutcome(app: App, result: SyncOutcome, durationMs: number, announce: boolean): void {
  const previous = readNodeState(app.paths.status);
  const failing = result.result === "unreachable" || result.result === "error";
  updateNodeState(app.paths.status, {
    lastSync: { at: new Date().toISOString(), result: result.result, error: result.error, durationMs },
    failures: failing ? previous.failures + 1 : 0,
  });
  // Say a refusal or failure once when it starts or changes, not on every poll.
  const changed = announce && (previous.lastSync?.result !== result.result || previous.lastSync?.error !== result.error);
  if (result.error && changed) log.warn(`sync ${result.result}: ${result.error}${result.hint ? ` (${result.hint})` : ""}`);
  else if (!result.error && changed && result.result === "up-to-date") log.info(`up to date at ${shortSha(result.to)}`);
}
