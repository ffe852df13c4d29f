import { existsSync, readdirSync } from "node:fs";
import { relative } from "node:path";
import { type App, PROTOCOL_JSON, parseProtocolJson } from "../app/app.ts";
import { backupFile } from "../core/backup.ts";
import { PreconditionError } from "../core/errors.ts";
import { readTextOrNull, writeFileAtomic } from "../core/fs.ts";
import { redactUrl } from "../core/validate.ts";
import { configGitAuth } from "../git/auth.ts";
import { commitAll } from "../git/branches.ts";
import { cloneRepo, currentBranch, git, initRepo, pushBranch, remoteBranches } from "../git/git.ts";
import { CONFIG_REMOTE, configContext, configDir } from "./repo.ts";

export interface ConfigInitOptions {
  /** The environment to check out; null (a node with none set): the one the remote's HEAD names. */
  env: string | null;
  remote?: string;
  /**
   * A person's config:init may give an empty remote its first environment (a push); a node never
   * writes to the config remote: it refuses instead.
   */
  push: boolean;
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

/**
 * Clone the config remote on the environment's branch — `origin/<env>`, whatever the remote's HEAD
 * says. A remote without that branch is refused (listing the ones it has), and so is an empty one
 * unless a person may push its first environment. Returns whether it pushed.
 */
async function cloneEnvironment(
  app: App,
  dir: string,
  url: string,
  options: Pick<ConfigInitOptions, "env" | "push">,
): Promise<boolean> {
  const auth = configGitAuth();
  const { branches, head } = await remoteBranches(url, auth);
  const shown = redactUrl(url);
  if (branches.length === 0) {
    if (!options.push)
      throw new PreconditionError(
        `the config remote ${shown} has no environment yet`,
        "give it one from a workstation: protocol config:init --remote <url> (it pushes the first environment)",
      );
    const env = options.env ?? "production";
    const ctx = configContext(app, dir);
    await cloneRepo(url, dir, auth);
    await git(ctx, ["symbolic-ref", "HEAD", `refs/heads/${env}`]);
    await commitAll(ctx, `protocol: ${env} environment`);
    await pushBranch(ctx, CONFIG_REMOTE, env);
    return true;
  }
  const env = options.env ?? head;
  if (!env || !branches.includes(env))
    throw new PreconditionError(
      `the config remote ${shown} has no environment ${env ?? "(its HEAD names no branch)"}; it has: ${branches.join(", ")}`,
      `create it on a workstation (protocol config:new ${env ?? "<env>"}, then protocol config:save), or use one it has: protocol config:env <env>`,
    );
  await cloneRepo(url, dir, auth, env);
  return false;
}

/** Create the config repo with a first commit on the env branch, or clone it on the env's branch. */
export async function initConfigRepo(app: App, options: ConfigInitOptions): Promise<ConfigInitReport> {
  const dir = configDir(app);
  assertFreeDir(dir);
  const ctx = configContext(app, dir);
  let pushed = false;
  if (options.remote) {
    pushed = await cloneEnvironment(app, dir, options.remote, options);
  } else {
    const env = options.env ?? "production";
    await initRepo(dir, env);
    await commitAll(ctx, `protocol: ${env} environment`);
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
