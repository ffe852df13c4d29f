/**
 * The config repo's move, when a pass saw its remote move (node/pass.ts loads this module only
 * then, so an idle pass never loads the links or the merge): fetch, refuse local work and link
 * conflicts, fast-forward, relink. What every pass runs (the look, the record) is in sync.ts.
 */
import type { App } from "../app/app.ts";
import { classifyLocalWork } from "../git/classify.ts";
import { ensureFetched } from "../git/fetch.ts";
import {
  aheadBehind,
  currentBranch,
  headCommit,
  lsRemoteBranch,
  mergeFastForward,
  remoteUrl,
  trackedChanges,
} from "../git/git.ts";
import { assertNoConflicts, linkConfig, planConfigLinks } from "./links.ts";
import { CONFIG_REMOTE, openConfigRepo, scanConfigTree } from "./repo.ts";
import { type ConfigSyncOutcome, failed } from "./sync.ts";

const HINTS = {
  dirty: "save them (protocol config:save) or undo them in the config repo; protocol never overwrites them",
  ahead: "push them (protocol config:save) or drop them in the config repo",
};

async function followOnce(app: App): Promise<ConfigSyncOutcome> {
  const repo = openConfigRepo(app);
  const ctx = repo.ctx;
  const branch = await currentBranch(ctx);
  const base = { branch, from: null, to: null, error: null };
  if (!branch)
    return {
      ...base,
      result: "error",
      error: `the config repo ${repo.dir} is on a detached HEAD`,
      hint: "switch to an environment: protocol config:switch <env>",
    };
  if ((await remoteUrl(ctx, CONFIG_REMOTE)) === null) {
    return {
      ...base,
      result: "error",
      error: `the config repo ${repo.dir} has no remote`,
      hint: `add one: git -C ${repo.dir} remote add ${CONFIG_REMOTE} <url>`,
    };
  }
  const remoteCommit = await lsRemoteBranch(ctx, CONFIG_REMOTE, branch);
  if (!remoteCommit)
    return {
      ...base,
      result: "error",
      error: `environment ${branch} is not on the config remote`,
      hint: "push it: protocol config:save",
    };
  const head = await headCommit(ctx);
  if (head === remoteCommit) return { ...base, result: "up-to-date", from: head, to: head };

  await ensureFetched(ctx, CONFIG_REMOTE, branch, remoteCommit);
  const changes = await trackedChanges(ctx);
  const { ahead, behind } = head ? await aheadBehind(ctx, head, remoteCommit) : { ahead: 0, behind: 1 };
  const refusal = classifyLocalWork(
    { changes, ahead, behind },
    `${CONFIG_REMOTE}/${branch}`,
    { dirty: false, ahead: false },
    HINTS,
  );
  if (refusal) return { ...base, ...refusal, from: head, to: head };
  // Plan the links of the incoming tree before anything moves: a conflict leaves both repos as they are.
  assertNoConflicts(
    (await planConfigLinks(app, repo, { tree: await scanConfigTree(ctx, remoteCommit), prune: true })).plan,
  );

  await mergeFastForward(ctx, remoteCommit);
  assertNoConflicts((await linkConfig(app, repo, { prune: true })).plan);
  return { ...base, result: "updated", from: head, to: remoteCommit };
}

/**
 * Fast-forward the config repo to its remote's commit and relink, refusing local work and link
 * conflicts before anything moves. The caller (a pass) holds the app's lock. Never throws.
 */
export async function followConfigRepo(app: App): Promise<ConfigSyncOutcome> {
  try {
    return await followOnce(app);
  } catch (error) {
    return failed(null, error);
  }
}
