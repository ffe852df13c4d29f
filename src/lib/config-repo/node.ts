import type { App } from "../app/app.ts";
import { log } from "../core/log.ts";
import { lockApp } from "../git/checkout-lock.ts";
import { currentBranch, remoteUrl } from "../git/git.ts";
import { assertEnvName, effectiveEnv, isDevEnv, readMachine, writeAppEnv, writeMachine } from "./env.ts";
import { switchEnv } from "./envs.ts";
import { initConfigRepo } from "./init.ts";
import { assertNoConflicts, type LinkReport, linkConfig } from "./links.ts";
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
export async function prepareConfig(app: App, given?: string): Promise<ConfigStart> {
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
  if (env && (await currentBranch(repo.ctx)) !== env) {
    report.link = (await switchEnv(app, repo, env, "start")).link;
  } else {
    const lock = await lockApp(app, "start");
    try {
      report.link = await linkConfig(app, repo, { prune: true });
      assertNoConflicts(report.link.plan);
    } finally {
      lock.release();
    }
  }
  report.branch = await currentBranch(repo.ctx);
  report.followable = (await remoteUrl(repo.ctx, CONFIG_REMOTE)) !== null;
  return report;
}
