import { existsSync, readdirSync } from "node:fs";
import { relative } from "node:path";
import { backupFile } from "../core/backup.ts";
import { PreconditionError } from "../core/errors.ts";
import { readTextOrNull, writeFileAtomic } from "../core/fs.ts";
import { log } from "../core/log.ts";
import { redactUrl } from "../core/validate.ts";
import { configGitAuth } from "../git/auth.ts";
import {
  branchExists,
  cloneRepo,
  commitAll,
  createBranch,
  currentBranch,
  git,
  headCommit,
  initRepo,
  pushBranch,
  switchBranch,
} from "../git/git.ts";
import { type App, PROTOCOL_JSON, parseProtocolJson } from "../node/app.ts";
import { CONFIG_REMOTE, configContext, configDir } from "./repo.ts";

export interface ConfigInitOptions {
  env: string;
  remote?: string;
  /** Record configuration.local/remote in protocol.json (which is committed: only when asked). */
  save: boolean;
}

export interface ConfigInitReport {
  dir: string;
  branch: string | null;
  remote: string | null;
  cloned: boolean;
  /** The first commit was pushed to an empty remote. */
  pushed: boolean;
  protocolJson: { path: string; backup: string | null } | null;
}

function assertFreeDir(dir: string): void {
  if (existsSync(`${dir}/.git`))
    throw new PreconditionError(
      `${dir} is already a config repo`,
      "link it with protocol config:link, or pass another place in configuration.local",
    );
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new PreconditionError(
      `${dir} exists and is not empty`,
      "move it aside, or set configuration.local in protocol.json",
    );
}

/** Create the config repo with a first commit on the env branch, or clone it (an empty remote gets that commit, pushed). */
export async function initConfigRepo(app: App, options: ConfigInitOptions): Promise<ConfigInitReport> {
  const dir = configDir(app);
  assertFreeDir(dir);
  const ctx = configContext(app, dir);
  const message = `protocol: ${options.env} environment`;
  let pushed = false;
  if (options.remote) {
    await cloneRepo(options.remote, dir, configGitAuth(app));
    if ((await headCommit(ctx)) === null) {
      await git(ctx, ["symbolic-ref", "HEAD", `refs/heads/${options.env}`]);
      await commitAll(ctx, message);
      await pushBranch(ctx, CONFIG_REMOTE, options.env);
      pushed = true;
    } else if ((await currentBranch(ctx)) !== options.env) {
      if ((await git(ctx, ["rev-parse", "--verify", "--quiet", `refs/remotes/${CONFIG_REMOTE}/${options.env}`])).ok) {
        if (!(await branchExists(ctx, options.env)))
          await createBranch(ctx, options.env, `${CONFIG_REMOTE}/${options.env}`, true);
        await switchBranch(ctx, options.env);
      } else {
        log.warn(
          `the config remote has no environment ${options.env}; staying on ${await currentBranch(ctx)} (create it with protocol config:new ${options.env})`,
        );
      }
    }
  } else {
    await initRepo(dir, options.env);
    await commitAll(ctx, message);
  }
  const remote = options.remote ? redactUrl(options.remote) : null;
  return {
    dir,
    branch: await currentBranch(ctx),
    remote,
    cloned: Boolean(options.remote),
    pushed,
    protocolJson: options.save ? saveLocation(app, dir, remote) : null,
  };
}

/** Write configuration.local/remote into protocol.json, keeping every other key; the old file is backed up. */
function saveLocation(app: App, dir: string, remote: string | null): { path: string; backup: string | null } {
  const path = app.configPath ?? `${app.dir}/${PROTOCOL_JSON}`;
  const current = readTextOrNull(path);
  const data = current ? JSON.parse(current) : { name: app.name };
  data.configuration = { ...data.configuration, local: relative(app.dir, dir) || ".", ...(remote ? { remote } : {}) };
  const text = `${JSON.stringify(data, null, 2)}\n`;
  parseProtocolJson(text, path);
  const backup = current === null ? null : backupFile(path, app.paths.backups);
  writeFileAtomic(path, text);
  return { path, backup };
}
