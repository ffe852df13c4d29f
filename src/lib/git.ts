import { NetworkError, PreconditionError, StepFailedError } from "./errors.ts";
import { firstLine, parseAheadBehind, parseLsRemote, parseStatusZ, parseSymref, parseUpstream, type StatusEntry } from "./parse/git.ts";
import { run, type SpawnResult } from "./spawn.ts";

/** Network git is killed when it prints nothing for this long (a hung TCP connection, a dead VPN). */
export const NETWORK_IDLE_TIMEOUT_MS = 60_000;

export interface GitContext {
  dir: string;
  /** Extra env: credentials (GIT_CONFIG_*), GIT_SSH_COMMAND. Never argv. */
  env?: Record<string, string>;
}

export async function git(ctx: GitContext, args: string[], options: { idleTimeoutMs?: number; input?: string } = {}): Promise<SpawnResult> {
  return run(["git", ...args], { cwd: ctx.dir, env: ctx.env, ...options });
}

async function gitOk(ctx: GitContext, args: string[], what: string): Promise<string> {
  const result = await git(ctx, args);
  if (!result.ok) throw new StepFailedError(`git ${what} failed in ${ctx.dir}: ${firstLine(result.stderr) || `exit ${result.exitCode}`}`);
  return result.stdout;
}

export async function isWorkTree(dir: string): Promise<boolean> {
  const result = await git({ dir }, ["rev-parse", "--is-inside-work-tree"]);
  return result.ok && result.stdout.trim() === "true";
}

export async function assertWorkTree(dir: string): Promise<void> {
  if (!(await isWorkTree(dir))) {
    throw new PreconditionError(`${dir} is not a git working copy`, "clone the app there first: git clone <url> <dir>");
  }
}

export async function gitDir(ctx: GitContext): Promise<string> {
  return (await gitOk(ctx, ["rev-parse", "--absolute-git-dir"], "rev-parse")).trim();
}

/** The commit HEAD points at, or null in a repo with no commits. */
export async function headCommit(ctx: GitContext): Promise<string | null> {
  const result = await git(ctx, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
  return result.ok ? result.stdout.trim() : null;
}

export async function currentBranch(ctx: GitContext): Promise<string | null> {
  const result = await git(ctx, ["symbolic-ref", "--short", "--quiet", "HEAD"]);
  return result.ok ? result.stdout.trim() : null;
}

export async function upstreamBranch(ctx: GitContext, remote: string): Promise<string | null> {
  const result = await git(ctx, ["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"]);
  return result.ok ? parseUpstream(result.stdout, remote) : null;
}

/** The remote's default branch as recorded at clone time (refs/remotes/<remote>/HEAD); no network. */
export async function localRemoteHead(ctx: GitContext, remote: string): Promise<string | null> {
  const result = await git(ctx, ["symbolic-ref", "--short", "--quiet", `refs/remotes/${remote}/HEAD`]);
  return result.ok ? parseUpstream(result.stdout, remote) : null;
}

export async function remoteDefaultBranch(ctx: GitContext, remote: string): Promise<string | null> {
  const result = await git(ctx, ["ls-remote", "--symref", remote, "HEAD"], { idleTimeoutMs: NETWORK_IDLE_TIMEOUT_MS });
  if (!result.ok) throw unreachable(remote, result);
  return parseSymref(result.stdout);
}

export async function remoteUrl(ctx: GitContext, remote: string): Promise<string | null> {
  const result = await git(ctx, ["remote", "get-url", remote]);
  return result.ok ? result.stdout.trim() : null;
}

function unreachable(remote: string, result: SpawnResult): NetworkError {
  const why = result.timedOut ? `no answer for ${NETWORK_IDLE_TIMEOUT_MS / 1000}s` : firstLine(result.stderr) || `exit ${result.exitCode}`;
  return new NetworkError(`remote ${remote} is unreachable: ${why}`, "check the network, the remote URL and the deploy key; protocol retries with backoff");
}

/** The tip of refs/heads/<branch> on the remote: one round trip, no objects transferred. */
export async function lsRemoteBranch(ctx: GitContext, remote: string, branch: string): Promise<string | null> {
  const ref = `refs/heads/${branch}`;
  const result = await git(ctx, ["ls-remote", "--", remote, ref], { idleTimeoutMs: NETWORK_IDLE_TIMEOUT_MS });
  if (!result.ok) throw unreachable(remote, result);
  return parseLsRemote(result.stdout, ref);
}

export async function hasCommit(ctx: GitContext, sha: string): Promise<boolean> {
  return (await git(ctx, ["cat-file", "-e", `${sha}^{commit}`])).ok;
}

export async function fetchBranch(ctx: GitContext, remote: string, branch: string): Promise<void> {
  const refspec = `+refs/heads/${branch}:refs/remotes/${remote}/${branch}`;
  const result = await git(ctx, ["fetch", "--no-tags", "--quiet", "--", remote, refspec], { idleTimeoutMs: NETWORK_IDLE_TIMEOUT_MS });
  if (!result.ok) throw unreachable(remote, result);
}

/** Uncommitted changes to tracked files (untracked files are the app's own business). */
export async function trackedChanges(ctx: GitContext): Promise<StatusEntry[]> {
  return parseStatusZ(await gitOk(ctx, ["status", "--porcelain=v1", "-z", "--untracked-files=no"], "status"));
}

export async function aheadBehind(ctx: GitContext, local: string, remote: string): Promise<{ ahead: number; behind: number }> {
  return parseAheadBehind(await gitOk(ctx, ["rev-list", "--left-right", "--count", `${local}...${remote}`], "rev-list"));
}

export async function mergeFastForward(ctx: GitContext, sha: string): Promise<void> {
  await gitOk(ctx, ["merge", "--ff-only", "--quiet", sha], "merge --ff-only");
}

/** Stash tracked changes; returns the stash commit so it can be named in logs. */
export async function stashChanges(ctx: GitContext, message: string): Promise<string> {
  await gitOk(ctx, ["stash", "push", "--message", message], "stash");
  return (await gitOk(ctx, ["rev-parse", "--verify", "refs/stash"], "rev-parse")).trim();
}

export async function updateRef(ctx: GitContext, ref: string, sha: string): Promise<void> {
  await gitOk(ctx, ["update-ref", ref, sha], "update-ref");
}

export async function resetHard(ctx: GitContext, sha: string): Promise<void> {
  await gitOk(ctx, ["reset", "--hard", "--quiet", sha], "reset");
}
