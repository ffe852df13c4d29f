import * as v from "valibot";
import { newsOf } from "../core/announce.ts";
import { errorMessage, NetworkError, ProtocolError } from "../core/errors.ts";
import { writeJsonAtomic } from "../core/fs.ts";
import { readJsonFile } from "../core/json-file.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import {
  aheadBehind,
  currentBranch,
  ensureFetched,
  headCommit,
  lsRemoteBranch,
  mergeFastForward,
  remoteUrl,
  trackedChanges,
} from "../git/git.ts";
import type { App } from "../app/app.ts";
import { classifyLocalWork } from "../git/classify.ts";
import { type ConfigState, ConfigStateSchema, type ConfigSyncResult } from "../schema/config-state.ts";
import { deployIfConfigChanged, lockApp } from "./follow.ts";
import { assertNoConflicts, linkConfig, planConfigLinks } from "./links.ts";
import { CONFIG_REMOTE, openConfigRepo, scanConfigTree } from "./repo.ts";

export interface ConfigSyncOutcome {
  result: ConfigSyncResult;
  branch: string | null;
  from: string | null;
  to: string | null;
  error: string | null;
  hint?: string;
  /** compose ran because the linked config changed. */
  deployed: boolean;
}

const HINTS = {
  dirty: "save them (protocol config:save) or undo them in the config repo; protocol never overwrites them",
  ahead: "push them (protocol config:save) or drop them in the config repo",
};

async function syncConfigOnce(app: App, command: string, lockWaitMs: number): Promise<ConfigSyncOutcome> {
  const repo = openConfigRepo(app);
  const ctx = repo.ctx;
  const branch = await currentBranch(ctx);
  const base = { branch, from: null, to: null, error: null, deployed: false };
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

  const lock = await lockApp(app, command, lockWaitMs);
  try {
    await mergeFastForward(ctx, remoteCommit);
    assertNoConflicts((await linkConfig(app, repo, { prune: true })).plan);
    const follow = await deployIfConfigChanged(app);
    return {
      ...base,
      result: follow.error ? "error" : "updated",
      from: head,
      to: remoteCommit,
      error: follow.error,
      deployed: follow.deployed,
    };
  } finally {
    lock.release();
  }
}

/** The config slave's last poll; an unreadable file is ours to rewrite. */
export function readConfigState(path: string): ConfigState {
  return readJsonFile(path, ConfigStateSchema, v.parse(ConfigStateSchema, {}));
}

/** One poll of the config repo: ls-remote, and on a change fetch, classify, fast-forward, relink, redeploy. Never throws. */
export async function syncConfig(
  app: App,
  options: { command: string; lockWaitMs?: number },
): Promise<ConfigSyncOutcome> {
  const started = Date.now();
  let outcome: ConfigSyncOutcome;
  try {
    outcome = await syncConfigOnce(app, options.command, options.lockWaitMs ?? 60_000);
  } catch (error) {
    const result = error instanceof NetworkError ? "unreachable" : "error";
    outcome = {
      result,
      branch: null,
      from: null,
      to: null,
      error: errorMessage(error),
      hint: error instanceof ProtocolError ? error.hint : undefined,
      deployed: false,
    };
  }
  const previous = readConfigState(app.paths.configStatus);
  const failing = outcome.result === "unreachable" || outcome.result === "error";
  const now = new Date();
  // The config slave's log: every update, any other change of outcome, a repeated failure hourly.
  const news =
    outcome.result === "updated"
      ? "change"
      : outcome.result === "up-to-date" && (!previous.announced || previous.announced.result === "updated")
        ? null
        : newsOf(previous.announced, { ...outcome, failing: outcome.result !== "up-to-date" }, now.getTime());
  writeJsonAtomic(app.paths.configStatus, {
    remoteCommit: outcome.to ?? previous.remoteCommit,
    lastSync: {
      at: now.toISOString(),
      result: outcome.result,
      error: outcome.error,
      durationMs: Date.now() - started,
    },
    failures: failing ? previous.failures + 1 : 0,
    announced: news ? { result: outcome.result, error: outcome.error, at: now.toISOString() } : previous.announced,
  } satisfies ConfigState);
  if (news && outcome.result === "updated")
    log.success(
      `config ${outcome.branch} updated ${shortSha(outcome.from)} → ${shortSha(outcome.to)}${outcome.deployed ? "; redeployed" : ""}${outcome.error ? `; ${outcome.error}` : ""}`,
    );
  else if (news && outcome.result === "up-to-date")
    log.success(`config recovered: up to date (was ${previous.announced?.result})`);
  else if (news && outcome.error) {
    const repeat =
      news === "repeat" && previous.announced
        ? `still ${outcome.result} since ${previous.announced.at}`
        : `config sync ${outcome.result}`;
    log.warn(`${repeat}: ${outcome.error}${outcome.hint ? ` (${outcome.hint})` : ""}`);
  }
  return outcome;
}
