import { loadApp } from "../../lib/app/app.ts";
import { effectiveEnv } from "../../lib/config-repo/env.ts";
import { switchEnv } from "../../lib/config-repo/envs.ts";
import { assertOwnConfigDir } from "../../lib/config-repo/owner.ts";
import { openConfigRepo } from "../../lib/config-repo/repo.ts";
import { logLinkReport } from "../../lib/config-repo/report.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { redeployChangedConfig } from "../../lib/node/execute.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:switch" },
  args: {
    env: {
      type: "positional",
      required: false,
      description: "The environment (default: the app's, from start <env>, else the machine's from config:env)",
      valueHint: "env",
    },
    ...dirArgs,
    ...jsonArgs,
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    assertOwnConfigDir(app);
    const env = args.env || effectiveEnv(app);
    if (!env)
      throw new UsageError(
        "which environment? none given and none set for this app or machine",
        "pass one (protocol config:switch production) or set the machine's: protocol config:env <env>",
      );
    const switched = await switchEnv(app, openConfigRepo(app), env, "config:switch");
    const redeploy = await redeployChangedConfig(app, "config:switch");
    const report = { ...switched, follow: { deployed: redeploy !== null, error: redeploy?.error ?? null } };
    if (args.json) return printJson(report);
    log.success(
      report.from === env
        ? `already on ${env}: links refreshed`
        : `switched the config repo from ${report.from ?? "(detached)"} to ${env}`,
    );
    logLinkReport(report.link);
    if (report.follow.deployed)
      report.follow.error
        ? log.error(`redeploy failed: ${report.follow.error}`)
        : log.success("containers brought up with the new config");
    const own = effectiveEnv(app);
    if (own && own !== env)
      log.info(`this app's environment is ${own}; start switches back to it (protocol start ${env} to keep this one)`);
  },
});
