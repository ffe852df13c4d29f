import type { App } from "../app/app.ts";
import { readDeploys, readNodeState } from "../app/state.ts";
import { PreconditionError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import { rollbackTo } from "../deploy/rollback.ts";
import type { ServiceImage } from "../docker/containers.ts";
import { gitContext } from "../git/auth.ts";
import { lockApp } from "../git/checkout-lock.ts";
import { git, headCommit } from "../git/git.ts";
import type { DeployRecord } from "../schema/state.ts";
import { recordManualRollback, recordResume } from "./record.ts";

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
  using _lock = await lockApp(app, "deploy:rollback");
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
  const { backupRef, services } = await rollbackTo(app, target);
  const done = { from, to: target.commit, images: target.images, backupRef };
  recordManualRollback(app, done, startedAt, services);
  return done;
}

/**
 * A person running `start` or `git:slave` ends a hold set by deploy:rollback and lifts a
 * quarantine (whatever broke may be fixed now); cron's restart keeps both. Returns whether it did.
 */
export function resumeFollowing(app: App): boolean {
  const { paused, quarantine } = readNodeState(app.paths.status);
  if (!paused && !quarantine) return false;
  recordResume(app);
  if (paused) log.info(`following the remote again (was held at ${shortSha(paused.commit)}: ${paused.reason})`);
  if (quarantine) log.info(`retrying ${shortSha(quarantine.commit)}, which was quarantined: ${quarantine.reason}`);
  return true;
}
