/**
 * The status remote's git side: its refs (one per node, plus the freeze and release records), and
 * a local bare repo per status remote that builds record commits and keeps the records fetched.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { stateHome } from "../core/paths.ts";
import { stepFailure } from "../core/spawn.ts";
import { fleetGitAuth } from "../git/auth.ts";
import {
  type GitContext,
  git,
  gitOutput,
  initBareRepo,
  network,
  networkIdleTimeoutMs,
  unreachable,
} from "../git/git.ts";
import { parseBatchCheck, parseLsRemoteRefs } from "../git/parse.ts";

export const RECORD_FILE = "record.json";

/**
 * The status remote gets a quarter of the app remote's silence (15 s by default): a stalled status
 * remote must not keep a loop from its next poll for long, and records are a few hundred bytes.
 */
const statusTimeoutMs = () => Math.round(networkIdleTimeoutMs() / 4);

/** More changed refs than this are fetched with the patterns themselves (argv stays short). */
const MAX_REFSPECS = 200;

async function talk(ctx: GitContext, url: string, args: string[]) {
  const timeout = statusTimeoutMs();
  const result = await network(ctx, url, args, timeout);
  return { result, failure: () => unreachable(url, result, timeout) };
}

export const fleetRef = (env: string, node: string) => `refs/protocol/fleet/${env}/${node}`;
export const freezeRef = (env: string) => `refs/protocol/control/${env}/freeze`;
export const releaseRef = (env: string, commit: string) => `refs/protocol/control/${env}/release/${commit}`;

/** The scratch repo for one status remote (in the state dir): created on first use. */
export async function scratchRepo(url: string, home = stateHome()): Promise<GitContext> {
  const key = new Bun.CryptoHasher("sha256").update(url).digest("hex").slice(0, 16);
  const dir = join(home, "fleet", `${key}.git`);
  if (!existsSync(join(dir, "HEAD"))) {
    mkdirSync(dir, { recursive: true });
    await initBareRepo(dir);
  }
  return { dir, ...fleetGitAuth() };
}

/** The status remote's refs matching `patterns` (one round trip, no objects). */
export async function listRefs(ctx: GitContext, url: string, patterns: string[]): Promise<Map<string, string>> {
  const { result, failure } = await talk(ctx, url, ["ls-remote", "--", url, ...patterns]);
  if (!result.ok) throw failure();
  return parseLsRemoteRefs(result.stdout);
}

/**
 * Fetch the refs that changed into the scratch repo, under the same names: by name, or, when there
 * are very many (a first read of a big fleet), by the patterns they matched.
 */
export async function fetchRefs(ctx: GitContext, url: string, refs: string[], patterns: string[]): Promise<void> {
  if (refs.length === 0) return;
  const refspecs = (refs.length > MAX_REFSPECS ? patterns : refs).map((ref) => `+${ref}:${ref}`);
  const args = ["fetch", "--no-tags", "--no-write-fetch-head", "--quiet", "--", url, ...refspecs];
  const { result, failure } = await talk(ctx, url, args);
  if (!result.ok) throw failure();
}

/** Which of `commits` the scratch repo has already (a record is fetched once). */
export async function haveCommits(ctx: GitContext, commits: string[]): Promise<Set<string>> {
  if (commits.length === 0) return new Set();
  const result = await git(ctx, ["cat-file", "--batch-check"], { input: `${commits.join("\n")}\n` });
  const found = result.ok ? parseBatchCheck(result.stdout, commits.length) : [];
  return new Set(commits.filter((_, i) => found[i]?.type === "commit"));
}

/** A parentless commit holding `data` as record.json, in the scratch repo. */
export async function writeRecordCommit(ctx: GitContext, data: unknown, message: string): Promise<string> {
  const blob = (await gitOutput(ctx, ["hash-object", "-w", "--stdin"], `${JSON.stringify(data, null, 2)}\n`)).trim();
  const tree = (await gitOutput(ctx, ["mktree"], `100644 blob ${blob}\t${RECORD_FILE}\n`)).trim();
  const identity = { GIT_AUTHOR_NAME: "protocol", GIT_AUTHOR_EMAIL: "protocol@localhost" };
  const result = await git(
    {
      ...ctx,
      env: { ...ctx.env, ...identity, GIT_COMMITTER_NAME: "protocol", GIT_COMMITTER_EMAIL: "protocol@localhost" },
    },
    ["commit-tree", tree, "-m", message],
  );
  if (!result.ok) throw stepFailure(`git commit-tree in ${ctx.dir}`, result);
  return result.stdout.trim();
}

/**
 * Point `ref` on the status remote at `commit` (forced: each ref has one writer), or delete it (null).
 * With a `lease` (the commit expected there, null for none), only if the ref is still there.
 */
export async function pushRef(
  ctx: GitContext,
  url: string,
  ref: string,
  commit: string | null,
  lease?: string | null,
): Promise<void> {
  const refspec = commit ? `${lease === undefined ? "+" : ""}${commit}:${ref}` : `:${ref}`;
  const leased = lease === undefined ? [] : [`--force-with-lease=${ref}:${lease ?? ""}`];
  const { result, failure } = await talk(ctx, url, ["push", "--quiet", "--no-verify", ...leased, "--", url, refspec]);
  if (result.timedOut) throw failure();
  if (!result.ok)
    throw stepFailure(`git push to ${url}`, result, "check that this machine may push to rollout.statusRemote");
}
