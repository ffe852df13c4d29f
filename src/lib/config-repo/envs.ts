import { hostname } from "node:os";
import type { App } from "../app/app.ts";
import { lockApp } from "../app/lock.ts";
import { PreconditionError } from "../core/errors.ts";
import { branchExists, commitAll, commitEmptyTree, createBranch, switchBranch } from "../git/branches.ts";
import {
  allChanges,
  currentBranch,
  fetchBranch,
  headCommit,
  lsRemoteBranch,
  pushBranch,
  remoteUrl,
} from "../git/git.ts";
import { assertEnvName } from "./env.ts";
import { assertNoConflicts, type LinkReport, linkConfig, planConfigLinks } from "./links.ts";
import { CONFIG_REMOTE, type ConfigRepo, scanConfigTree } from "./repo.ts";

/** config:new: the branch, from the current environment or (empty) from nothing; the checkout stays as it is. */
export async function newEnv(
  repo: ConfigRepo,
  env: string,
  options: { empty: boolean },
): Promise<{ env: string; from: string | null; commit: string }> {
  assertEnvName(env);
  if (await branchExists(repo.ctx, env))
    throw new PreconditionError(`environment ${env} already exists`, `switch to it: protocol config:switch ${env}`);
  const from = options.empty ? null : await currentBranch(repo.ctx);
  const start = options.empty
    ? await commitEmptyTree(repo.ctx, `protocol: ${env} environment`)
    : await headCommit(repo.ctx);
  if (!start)
    throw new PreconditionError(`the config repo ${repo.dir} has no commit to start ${env} from`, "pass --empty");
  await createBranch(repo.ctx, env, start);
  return { env, from, commit: start };
}

export async function assertSaved(repo: ConfigRepo): Promise<void> {
  const changes = await allChanges(repo.ctx);
  if (changes.length === 0) return;
  const names = changes
    .slice(0, 3)
    .map((c) => c.path)
    .join(", ");
  throw new PreconditionError(
    `the config repo has unsaved changes (${changes.length}: ${names}${changes.length > 3 ? ", …" : ""})`,
    "save them with protocol config:save, or undo them in the config repo",
  );
}

/** A local branch for env, made from the remote's when only the remote has it. */
async function ensureBranch(repo: ConfigRepo, env: string): Promise<void> {
  if (await branchExists(repo.ctx, env)) return;
  const onRemote =
    (await remoteUrl(repo.ctx, CONFIG_REMOTE)) !== null &&
    (await lsRemoteBranch(repo.ctx, CONFIG_REMOTE, env)) !== null;
  if (!onRemote)
    throw new PreconditionError(
      `there is no environment ${env} in the config repo`,
      `create it: protocol config:new ${env}`,
    );
  await fetchBranch(repo.ctx, CONFIG_REMOTE, env);
  await createBranch(repo.ctx, env, `${CONFIG_REMOTE}/${env}`, true);
}

export interface SwitchReport {
  env: string;
  from: string | null;
  link: LinkReport;
}

/**
 * config:switch: refuse unsaved changes, plan the new env's links, then check out and relink. The
 * redeploy a changed config needs is a pass's (node/), run by the caller after this.
 */
export async function switchEnv(app: App, repo: ConfigRepo, env: string, command: string): Promise<SwitchReport> {
  assertEnvName(env);
  await assertSaved(repo);
  await ensureBranch(repo, env);
  assertNoConflicts(
    (await planConfigLinks(app, repo, { tree: await scanConfigTree(repo.ctx, env), prune: true })).plan,
  );
  const from = await currentBranch(repo.ctx);
  const lock = await lockApp(app, command);
  try {
    if (from !== env) await switchBranch(repo.ctx, env);
    const link = await linkConfig(app, repo, { prune: true });
    assertNoConflicts(link.plan);
    return { env, from, link };
  } finally {
    lock.release();
  }
}

export interface SaveReport {
  branch: string;
  committed: boolean;
  commit: string | null;
  pushed: boolean;
  /** False when the config repo has no remote: committed here only. */
  remote: boolean;
}

/** config:save: commit everything (message, else one naming the env and host) and push the env's branch. */
export async function saveConfig(repo: ConfigRepo, message?: string): Promise<SaveReport> {
  const branch = await currentBranch(repo.ctx);
  if (!branch)
    throw new PreconditionError(
      `the config repo ${repo.dir} is on a detached HEAD`,
      "switch to an environment: protocol config:switch <env>",
    );
  const committed = await commitAll(repo.ctx, message || `protocol: save ${branch} from ${hostname()}`);
  const commit = await headCommit(repo.ctx);
  const remote = (await remoteUrl(repo.ctx, CONFIG_REMOTE)) !== null;
  let pushed = false;
  if (remote && commit && (await lsRemoteBranch(repo.ctx, CONFIG_REMOTE, branch)) !== commit) {
    await pushBranch(repo.ctx, CONFIG_REMOTE, branch);
    pushed = true;
  }
  return { branch, committed, commit, pushed, remote };
}
