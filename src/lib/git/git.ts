import { lstatSync } from "node:fs";
import { join } from "node:path";
import { diagnose, stderrTail } from "../core/causes.ts";
import { NetworkError, PreconditionError } from "../core/errors.ts";
import { run, type SpawnResult, stepFailure } from "../core/spawn.ts";
import { isTerminal } from "../core/terminal.ts";
import { readHeadFromFiles } from "./head-file.ts";
import { type GitAuth, httpAuthEnv } from "./http-auth.ts";
import {
  parseAheadBehind,
  parseLsRemote,
  parseRemoteBranches,
  parseStatusZ,
  parseSymref,
  parseUpstream,
  type StatusEntry,
  stripProgress,
} from "./parse.ts";

/**
 * Network git is killed when nothing arrives for this long (a hung TCP connection, a dead VPN); a
 * transfer that is moving, however slowly, is never killed: fetches run with --progress, so every
 * chunk received shows on stderr. PROTOCOL_NETWORK_TIMEOUT (seconds) changes the window.
 */
export function networkIdleTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  const seconds = Number(env.PROTOCOL_NETWORK_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 60_000;
}

/**
 * Network git is given up after this long in all, however it moves (a server that drips progress
 * for ever): PROTOCOL_NETWORK_TOTAL_TIMEOUT (seconds), 30 minutes by default.
 */
export function networkTotalTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  const seconds = Number(env.PROTOCOL_NETWORK_TOTAL_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1_800_000;
}

export interface GitContext extends GitAuth {
  dir: string;
}

/** A git that talks to `remote` (a name or a URL): its credentials scoped to that URL, the network timeout. */
export async function network(
  ctx: GitAuth & { dir?: string },
  remote: string,
  args: string[],
  idleTimeoutMs = networkIdleTimeoutMs(),
  signal?: AbortSignal,
): Promise<SpawnResult> {
  let env = ctx.env;
  if (ctx.http) {
    // Without a repo (clone) the remote is the URL itself.
    const url = ctx.dir === undefined ? remote : ((await remoteUrl({ dir: ctx.dir }, remote)) ?? remote);
    env = { ...ctx.env, ...httpAuthEnv(url, ctx.http) };
  }
  // A fetch or clone at a terminal shows git's own progress (the loop's log gets none of it).
  const tee = (args.includes("fetch") || args[0] === "clone") && isTerminal(2);
  return run(["git", ...args], { cwd: ctx.dir, env, idleTimeoutMs, timeoutMs: networkTotalTimeoutMs(), tee, signal });
}

export async function git(
  ctx: GitContext,
  args: string[],
  options: { idleTimeoutMs?: number; input?: string } = {},
): Promise<SpawnResult> {
  return run(["git", ...args], { cwd: ctx.dir, env: ctx.env, ...options });
}

async function gitOk(ctx: GitContext, args: string[], what: string): Promise<string> {
  const result = await git(ctx, args);
  if (!result.ok) throw stepFailure(`git ${what} in ${ctx.dir}`, result);
  return result.stdout;
}

/** A local git command's stdout (with `input` on stdin); a failure throws with the reason. */
export async function gitOutput(ctx: GitContext, args: string[], input?: string): Promise<string> {
  const result = await git(ctx, args, input === undefined ? {} : { input });
  if (!result.ok) throw stepFailure(`git ${args[0]} in ${ctx.dir}`, result);
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

/** The repository's .git dir: read from the file system for a plain clone (the idle poll asks), else from git. */
export async function gitDir(ctx: GitContext): Promise<string> {
  const plain = join(ctx.dir, ".git");
  if (lstatSync(plain, { throwIfNoEntry: false })?.isDirectory()) return plain;
  return (await gitOk(ctx, ["rev-parse", "--absolute-git-dir"], "rev-parse")).trim();
}

/** The commit HEAD points at, or null in a repo with no commits. */
export async function headCommit(ctx: GitContext): Promise<string | null> {
  const fromFiles = readHeadFromFiles(ctx.dir);
  if (fromFiles !== undefined) return fromFiles;
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
  const result = await network(ctx, remote, ["ls-remote", "--symref", remote, "HEAD"]);
  if (!result.ok) throw unreachable(remote, result);
  return parseSymref(result.stdout);
}

export async function remoteUrl(ctx: GitContext, remote: string): Promise<string | null> {
  const result = await git(ctx, ["remote", "get-url", remote]);
  return result.ok ? result.stdout.trim() : null;
}

export function unreachable(remote: string, result: SpawnResult, idleTimeoutMs = networkIdleTimeoutMs()): NetworkError {
  const cause = result.timedOut ? null : diagnose(result.stderr);
  const total = networkTotalTimeoutMs();
  const why = result.timedOut
    ? result.durationMs >= total
      ? `not done after ${total / 1000}s (PROTOCOL_NETWORK_TOTAL_TIMEOUT)`
      : `nothing received for ${idleTimeoutMs / 1000}s`
    : cause && cause.kind !== "network"
      ? cause.message
      : stderrTail(stripProgress(result.stderr), result.exitCode, result.signal);
  return new NetworkError(
    `remote ${remote} is unreachable: ${why}`,
    cause?.hint ?? "check the network, the remote URL and the deploy key; protocol retries with backoff",
  );
}

/** The tip of refs/heads/<branch> on the remote: one round trip, no objects transferred. */
export async function lsRemoteBranch(ctx: GitContext, remote: string, branch: string): Promise<string | null> {
  const ref = `refs/heads/${branch}`;
  const result = await network(ctx, remote, ["ls-remote", "--", remote, ref]);
  if (!result.ok) throw unreachable(remote, result);
  return parseLsRemote(result.stdout, ref);
}

/**
 * Whether `sha` arrived with a finished fetch: the remote-tracking ref is at it or past it. git moves
 * that ref only after a fetch completed and passed its connectivity check. The commit object alone
 * proves nothing: a killed fetch can leave it behind without its trees and blobs.
 */
export async function hasFetched(ctx: GitContext, remote: string, branch: string, sha: string): Promise<boolean> {
  const ref = `refs/remotes/${remote}/${branch}`;
  const tip = await git(ctx, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  if (!tip.ok) return false;
  if (tip.stdout.trim() === sha) return true;
  return (await git(ctx, ["merge-base", "--is-ancestor", sha, ref])).ok;
}

/** Whether `ancestor` is `commit` or one of its ancestors (false when either is unknown here). */
export async function isAncestor(ctx: GitContext, ancestor: string, commit: string): Promise<boolean> {
  return (await git(ctx, ["merge-base", "--is-ancestor", ancestor, commit])).ok;
}

/** Uncommitted changes to tracked files (untracked files are the app's own business). */
export async function trackedChanges(ctx: GitContext): Promise<StatusEntry[]> {
  return parseStatusZ(await gitOk(ctx, ["status", "--porcelain=v1", "-z", "--untracked-files=no"], "status"));
}

export async function aheadBehind(
  ctx: GitContext,
  local: string,
  remote: string,
): Promise<{ ahead: number; behind: number }> {
  return parseAheadBehind(
    await gitOk(ctx, ["rev-list", "--left-right", "--count", `${local}...${remote}`], "rev-list"),
  );
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

/** A path inside the git dir, e.g. info/exclude (works for worktrees, where .git is a file). */
export async function gitPath(ctx: GitContext, name: string): Promise<string> {
  return (await gitOk(ctx, ["rev-parse", "--path-format=absolute", "--git-path", name], "rev-parse")).trim();
}

/** Every change in the working copy, untracked files included (the config repo's "unsaved changes"). */
export async function allChanges(ctx: GitContext): Promise<StatusEntry[]> {
  return parseStatusZ(await gitOk(ctx, ["status", "--porcelain=v1", "-z", "--untracked-files=all"], "status"));
}

/** Which of `paths` the repo tracks (literal paths: no glob magic in user file names). */
export async function trackedPaths(ctx: GitContext, paths: string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const out = await gitOk(ctx, ["--literal-pathspecs", "ls-files", "-z", "--", ...paths], "ls-files");
  return out.split("\0").filter(Boolean);
}

export async function untrackPaths(ctx: GitContext, paths: string[]): Promise<void> {
  await gitOk(ctx, ["--literal-pathspecs", "rm", "-r", "--cached", "--quiet", "--", ...paths], "rm --cached");
}

export async function pushBranch(ctx: GitContext, remote: string, branch: string): Promise<void> {
  const result = await network(ctx, remote, [
    "push",
    "--quiet",
    "--set-upstream",
    "--",
    remote,
    `HEAD:refs/heads/${branch}`,
  ]);
  if (result.timedOut) throw unreachable(remote, result);
  if (!result.ok) {
    throw stepFailure(
      `git push to ${remote}`,
      result,
      "check the remote and your access to it, then run the command again",
    );
  }
}

/** A remote's branches and the one its HEAD names (null when HEAD is dangling or absent), by URL. */
export async function remoteBranches(
  url: string,
  auth: GitAuth = {},
): Promise<{ branches: string[]; head: string | null }> {
  const result = await network(auth, url, ["ls-remote", "--symref", "--", url, "HEAD", "refs/heads/*"]);
  if (!result.ok) throw unreachable(url, result);
  return parseRemoteBranches(result.stdout);
}

/** Clone `url` into `dir`, checked out on `branch` when given (whatever the remote's HEAD says). */
export async function cloneRepo(url: string, dir: string, auth: GitAuth = {}, branch?: string): Promise<void> {
  const result = await network(auth, url, [
    "clone",
    "--quiet",
    ...(branch ? ["--branch", branch] : []),
    "--",
    url,
    dir,
  ]);
  if (!result.ok) throw unreachable(url, result);
}

export async function initRepo(dir: string, branch: string): Promise<void> {
  const result = await run(["git", "init", "--quiet", `--initial-branch=${branch}`, "--", dir]);
  if (!result.ok) throw stepFailure(`git init ${dir}`, result);
}

export async function initBareRepo(dir: string): Promise<void> {
  const result = await run(["git", "init", "--quiet", "--bare", "--", dir]);
  if (!result.ok) throw stepFailure(`git init --bare ${dir}`, result);
}
