import * as v from "valibot";
import type { App } from "../app/app.ts";
import { newsOf } from "../core/announce.ts";
import { errorMessage, NetworkError, ProtocolError } from "../core/errors.ts";
import { writeJsonAtomic } from "../core/fs.ts";
import { readJsonFile } from "../core/json-file.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import { currentBranch, headCommit, lsRemoteBranch, remoteUrl } from "../git/git.ts";
import { type ConfigState, ConfigStateSchema, type ConfigSyncResult } from "../schema/config-state.ts";
import { CONFIG_REMOTE, configContext, hasConfigRepo } from "./repo.ts";

/**
 * Following the config repo, as one part of the app's pass (node/pass.ts): where the env's branch
 * is here and on the config remote (observeConfigRepo), fast-forward and relink when it moved
 * (followConfigRepo in follow.ts, under the pass's lock), and the config part's record
 * (recordConfigPoll). The redeploy a changed config needs is the pass's own: it sees the linked
 * files' hash change. Only what every pass runs is here: the links, the fetch and the merge are in
 * follow.ts, loaded when the config remote moved (bench/memory.ts).
 */

export interface ConfigSyncOutcome {
  result: ConfigSyncResult;
  branch: string | null;
  from: string | null;
  to: string | null;
  error: string | null;
  hint?: string;
}

/** Where the config repo's env branch is, here and on its remote; an outcome when it cannot be followed. */
export interface ConfigObservation {
  branch: string | null;
  head: string | null;
  remoteCommit: string | null;
  /** Why it cannot be followed now (no remote, detached, unreachable…); null when it can. */
  problem: ConfigSyncOutcome | null;
}

/** The cheap look a pass takes at the config repo: one ls-remote. Never throws. */
export async function observeConfigRepo(app: App): Promise<ConfigObservation | null> {
  if (!hasConfigRepo(app)) return null;
  const ctx = configContext(app);
  let branch: string | null = null;
  let head: string | null = null;
  try {
    [branch, head] = await Promise.all([currentBranch(ctx), headCommit(ctx)]);
    const base = { branch, from: head, to: head, error: null };
    if (!branch)
      return {
        branch,
        head,
        remoteCommit: null,
        problem: {
          ...base,
          result: "error",
          error: `the config repo ${ctx.dir} is on a detached HEAD`,
          hint: "switch to an environment: protocol config:switch <env>",
        },
      };
    if ((await remoteUrl(ctx, CONFIG_REMOTE)) === null) return null;
    const remoteCommit = await lsRemoteBranch(ctx, CONFIG_REMOTE, branch);
    if (!remoteCommit)
      return {
        branch,
        head,
        remoteCommit,
        problem: {
          ...base,
          result: "error",
          error: `environment ${branch} is not on the config remote`,
          hint: "push it: protocol config:save",
        },
      };
    return { branch, head, remoteCommit, problem: null };
  } catch (error) {
    return { branch, head, remoteCommit: null, problem: failed(branch, error) };
  }
}

/** A failure as the config part's outcome: unreachable (network) or error, with the hint it carries. */
export function failed(branch: string | null, error: unknown): ConfigSyncOutcome {
  return {
    result: error instanceof NetworkError ? "unreachable" : "error",
    branch,
    from: null,
    to: null,
    error: errorMessage(error),
    hint: error instanceof ProtocolError ? error.hint : undefined,
  };
}

/** The config slave's last poll; an unreadable file is ours to rewrite. */
export function readConfigState(path: string): ConfigState {
  return readJsonFile(path, ConfigStateSchema, v.parse(ConfigStateSchema, {}));
}

/** While nothing changes, the config part's record is rewritten at most this often (no fsync). */
const QUIET_WRITE_MS = 60_000;

/** The config part of a pass, recorded (status reads it) and said in the loop's log when it is news. */
export function recordConfigPoll(app: App, outcome: ConfigSyncOutcome, durationMs: number, announce: boolean): void {
  const previous = readConfigState(app.paths.configStatus);
  const failing = outcome.result === "unreachable" || outcome.result === "error";
  const now = new Date();
  // The loop's log: every update, any other change of outcome, a repeated failure hourly.
  const news = !announce
    ? null
    : outcome.result === "updated"
      ? "change"
      : outcome.result === "up-to-date" && (!previous.announced || previous.announced.result === "updated")
        ? null
        : newsOf(previous.announced, { ...outcome, failing: outcome.result !== "up-to-date" }, now.getTime());
  const failures = failing ? previous.failures + 1 : 0;
  const quiet =
    news === null &&
    previous.lastSync?.result === outcome.result &&
    previous.lastSync.error === outcome.error &&
    previous.failures === failures &&
    (outcome.to ?? previous.remoteCommit) === previous.remoteCommit &&
    now.getTime() - Date.parse(previous.lastSync.at) < QUIET_WRITE_MS;
  if (!quiet)
    writeJsonAtomic(
      app.paths.configStatus,
      {
        remoteCommit: outcome.to ?? previous.remoteCommit,
        lastSync: { at: now.toISOString(), result: outcome.result, error: outcome.error, durationMs },
        failures,
        announced: news ? { result: outcome.result, error: outcome.error, at: now.toISOString() } : previous.announced,
      } satisfies ConfigState,
      outcome.result === "updated",
    );
  if (news && outcome.result === "updated")
    log.success(`config ${outcome.branch} updated ${shortSha(outcome.from)} → ${shortSha(outcome.to)}`);
  else if (news && outcome.result === "up-to-date")
    log.success(`config recovered: up to date (was ${previous.announced?.result})`);
  else if (news && outcome.error) {
    const repeat =
      news === "repeat" && previous.announced
        ? `still ${outcome.result} since ${previous.announced.at}`
        : `config sync ${outcome.result}`;
    log.warn(`${repeat}: ${outcome.error}${outcome.hint ? ` (${outcome.hint})` : ""}`);
  }
}
