import { hostname } from "node:os";
import type { App } from "../app/app.ts";
import { PreconditionError } from "../core/errors.ts";
import { branchExists, commitAll, commitEmptyTree, createBranch, switchBranch } from "../git/branches.ts";
import { lockApp } from "../git/checkout-lock.ts";
import { fetchBranch } from "../git/fetch.ts";
import { allChanges, currentBranch, headCommit, lsRemoteBranch, pushBranch, remoteUrl } from "../git/git.ts";
import { assertEnvName } from "./env.ts";
import { readOwnedPaths } from "./ignore.ts";
import {
  assertNoConflicts,
  type Backup,
  type LinkOptions,
  type LinkReport,
  linkConfig,
  planConfigLinks,
} from "./links.ts";
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
export async function switchEnv(
  app: App,
  repo: ConfigRepo,
  env: string,
  command: string,
  options: Pick<LinkOptions, "skipRefused"> = {},
): Promise<SwitchReport> {
  assertEnvName(env);
  await assertSaved(repo);
  await ensureBranch(repo, env);
  assertNoConflicts(
    (await planConfigLinks(app, repo, { tree: await scanConfigTree(repo.ctx, env), prune: true })).plan,
    options,
  );
  const from = await currentBranch(repo.ctx);
  const lock = await lockApp(app, command);
  try {
    if (from !== env) await switchBranch(repo.ctx, env);
    const link = await linkConfig(app, repo, { prune: true, ...options });
    assertNoConflicts(link.plan, options);
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
  /** --adopt: links that had become real files, moved into the config repo and linked again. */
  adopted: string[];
  /** What --adopt kept first: the app's file, and the config repo's one it replaced. */
  backups: Backup[];
}

/**
 * Links protocol made that are real files now: `sed -i` and editors that rename over the file
 * replace the link, so the edit went to the app's copy and not into the config repo.
 */
async function replacedLinks(app: App, repo: ConfigRepo): Promise<string[]> {
  const owned = new Set(await readOwnedPaths(app.dir, { dir: app.dir }));
  const { plan } = await planConfigLinks(app, repo);
  return plan.conflicts.filter((c) => c.kind === "file" && owned.has(c.path)).map((c) => c.path);
}

/**
 * config:save: commit everything (message, else one naming the env and host) and push the env's
 * branch. A link that became a real file is refused (its edit would be left out of what is pushed),
 * or with `adopt` moved into the config repo and linked again first.
 */
export async function saveConfig(
  app: App,
  repo: ConfigRepo,
  options: { message?: string; adopt?: boolean } = {},
): Promise<SaveReport> {
  const branch = await currentBranch(repo.ctx);
  if (!branch)
    throw new PreconditionError(
      `the config repo ${repo.dir} is on a detached HEAD`,
      "switch to an environment: protocol config:switch <env>",
    );
  const replaced = await replacedLinks(app, repo);
  if (replaced.length > 0 && !options.adopt)
    throw new PreconditionError(
      `${replaced.join(", ")}: linked from the config repo, now a real file in the app (sed -i or an editor replaced the link), so the edit is not in the config repo; nothing was committed or pushed`,
      "protocol config:save --adopt moves the app's file into the config repo (both backed up), links it again and saves",
    );
  const backups =
    replaced.length > 0 ? (await linkConfig(app, repo, { resolve: "adopt", only: replaced })).backups : [];
  const message = options.message;
  const committed = await commitAll(repo.ctx, message || `protocol: save ${branch} from ${hostname()}`);
  const commit = await headCommit(repo.ctx);
  const remote = (await remoteUrl(repo.ctx, CONFIG_REMOTE)) !== null;
  let pushed = false;
  if (remote && commit && (await lsRemoteBranch(repo.ctx, CONFIG_REMOTE, branch)) !== commit) {
    await pushBranch(repo.ctx, CONFIG_REMOTE, branch);
    pushed = true;
  }
  return { branch, committed, commit, pushed, remote, adopted: replaced, backups };
}
