import type { App } from "../app/app.ts";
import { acquireLock } from "../app/lock.ts";
import { appendDeploy, readDeploys, readNodeState, updateNodeState } from "../app/state.ts";
import { configHash } from "../config-repo/hash.ts";
import { PreconditionError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import type { ServiceImage } from "../docker/containers.ts";
import { gitContext } from "../git/auth.ts";
import { git, headCommit } from "../git/git.ts";
import type { DeployRecord } from "../schema/state.ts";
import { rollbackTo } from "./rollback.ts";

export interface ManualRollback {
  from: string | null;
  to: string;
  images: ServiceImage[];
  backupRef: string | null;
}

/** The deploy to go back to: `--to <commit>`, else the newest good deploy of another commit. */
export function pickRollbackTarget(
  deploys: DeployRecord[],
  current: string | null,
  to?: string,
): { commit: string; images: ServiceImage[] } | null {
  const good = deploys.filter((d) => d.result === "deployed");
  if (to) {
    const recorded = good.findLast((d) => d.to === to);
    return { commit: to, images: recorded?.images ?? [] };
  }
  const previous = good.findLast((d) => d.to !== current);
  return previous ? { commit: previous.to, images: previous.images } : null;
}

/**
 * `deploy:rollback`: put the node on an earlier good deploy (commit and image digests) and hold it
 * there: slave mode skips the remote until `start` or `git:slave` resumes it.
 */
export async function rollbackByHand(app: App, options: { to?: string }): Promise<ManualRollback> {
  using _lock = await acquireLock(app.paths.syncLock, { command: "deploy:rollback", waitMs: 60_000 });
  const ctx = gitContext(app);
  let to = options.to;
  if (to) {
    const resolved = await git(ctx, ["rev-parse", "--verify", "--quiet", `${to}^{commit}`]);
    if (!resolved.ok)
      throw new PreconditionError(`${to} is not a commit in ${app.dir}`, "name a commit from protocol deploy:log");
    to = resolved.stdout.trim();
  }
  const state = readNodeState(app.paths.status);
  const from = state.deployedCommit ?? (await headCommit(ctx));
  const target = pickRollbackTarget(readDeploys(app.paths.deploys), from, to);
  if (!target) throw new PreconditionError("there is no earlier good deploy to roll back to", "pass --to <commit>");
  if (target.images.length === 0)
    log.warn(`no image digests recorded for ${shortSha(target.commit)}: images stay as their tags point now`);
  const startedAt = new Date();
  const { backupRef } = await rollbackTo(app, target);
  appendDeploy(app.paths.deploys, {
    from,
    to: target.commit,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    result: "deployed",
    reason: "rollback",
    keptAs: backupRef,
    images: target.images,
    rolledBackTo: target.commit,
  });
  updateNodeState(app.paths.status, {
    deployedCommit: target.commit,
    deployedConfigHash: configHash(app),
    images: target.images,
    // A deploy cut short before this is over: a later deploy of its commit is a new one (its hooks run).
    deploying: null,
    hooksDone: null,
    paused: {
      at: new Date().toISOString(),
      reason: `deploy:rollback from ${shortSha(from)} to ${shortSha(target.commit)}`,
      commit: target.commit,
    },
  });
  return { from, to: target.commit, images: target.images, backupRef };
}

/**
 * A person running `start` or `git:slave` ends a hold set by deploy:rollback and lifts a
 * quarantine (whatever broke may be fixed now); cron's restart keeps both. Returns whether it did.
 */
export function resumeFollowing(app: App): boolean {
  const { paused, quarantine } = readNodeState(app.paths.status);
  if (!paused && !quarantine) return false;
  updateNodeState(app.paths.status, { paused: null, quarantine: null });
  if (paused) log.info(`following the remote again (was held at ${shortSha(paused.commit)}: ${paused.reason})`);
  if (quarantine) log.info(`retrying ${shortSha(quarantine.commit)}, which was quarantined: ${quarantine.reason}`);
  return true;
}
