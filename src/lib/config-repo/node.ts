import type { App } from "../app/app.ts";
import { errorMessage } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { lockApp } from "../git/checkout-lock.ts";
import { currentBranch, remoteUrl } from "../git/git.ts";
import { assertEnvName, effectiveEnv, isDevEnv, readMachine, writeAppEnv, writeMachine } from "./env.ts";
import { switchEnv } from "./envs.ts";
import { initConfigRepo } from "./init.ts";
import { assertNoConflicts, type LinkReport, linkConfig, warnRefused } from "./links.ts";
import { claimConfigDir, otherAppOnConfigDir, sharedConfigDirError } from "./owner.ts";
import { CONFIG_REMOTE, hasConfigRepo, openConfigRepo } from "./repo.ts";

export interface ConfigStart {
  /** The app's environment after start (its own when start was given one, else the machine's default). */
  env: string | null;
  /** A development environment: start leaves git alone (no sync, no slave loops). */
  dev: boolean;
  /** The config repo, or null when the app has none. */
  dir: string | null;
  branch: string | null;
  cloned: boolean;
  /** The config repo has a remote, so a config slave can follow it. */
  followable: boolean;
  link: LinkReport | null;
}

/**
 * start's config step, before anything deploys: record the env, clone the configured config repo
 * if it is missing, check out the env's branch, link. Redeploying is left to the deploy that follows.
 */
export async function prepareConfig(
  app: App,
  given?: string,
  command: "start" | "restart" = "start",
): Promise<ConfigStart> {
  // Only a config repo there (or one start clones) can be shared: two clones of an app without one start.
  const other = hasConfigRepo(app) || app.config.configuration?.remote ? otherAppOnConfigDir(app) : null;
  // After a reboot both apps would refuse and neither loop come back: say it, and go on as before.
  if (other && command === "restart") log.warn(errorMessage(sharedConfigDirError(app, other)));
  else if (other) throw sharedConfigDirError(app, other);
  if (given) writeAppEnv(app, assertEnvName(given));
  const env = effectiveEnv(app);
  const report: ConfigStart = {
    env,
    dev: env ? isDevEnv(env) : false,
    dir: null,
    branch: null,
    cloned: false,
    followable: false,
    link: null,
  };
  const remote = app.config.configuration?.remote;
  if (!hasConfigRepo(app) && remote) {
    // A node follows: it clones the environment's branch, and never pushes to the config remote.
    await initConfigRepo(app, { env, remote, save: false, push: false });
    report.cloned = true;
  }
  // The config repo names this app as the one that took it: another state dir's start asks it.
  claimConfigDir(app);
  // The environment names a branch of the config repo: an app without one has nothing to be told.
  if (!hasConfigRepo(app)) return report;
  if (!env && !readMachine().hinted) {
    log.info(
      "no environment set for this machine: it runs as a server on the config repo's current branch (set one: protocol config:env <env>)",
    );
    writeMachine({ hinted: true });
  }
  const repo = openConfigRepo(app);
  report.dir = repo.dir;
  // An entry protocol refuses to link stops nothing: the rest is linked, the loop starts, and the
  // push that fixes it is linked by the loop.
  const skipRefused = true;
  if (env && (await currentBranch(repo.ctx)) !== env) {
    report.link = (await switchEnv(app, repo, env, "start", { skipRefused })).link;
  } else {
    const lock = await lockApp(app, "start");
    try {
      report.link = await linkConfig(app, repo, { prune: true, skipRefused });
      assertNoConflicts(report.link.plan, { skipRefused });
    } finally {
      lock.release();
    }
  }
  warnRefused(report.link.plan);
  report.branch = await currentBranch(repo.ctx);
  report.followable = (await remoteUrl(repo.ctx, CONFIG_REMOTE)) !== null;
  return report;
}
