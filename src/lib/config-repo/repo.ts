import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, type Stats, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { PreconditionError } from "../core/errors.ts";
import { expandHome } from "../core/paths.ts";
import { hasControlChars } from "../core/validate.ts";
import { gitEnv } from "../git/auth.ts";
import type { GitContext } from "../git/git.ts";
import type { App } from "../node/app.ts";

/** The config repo's remote is always "origin": it is protocol's own clone. */
export const CONFIG_REMOTE = "origin";

export interface ConfigRepo {
  dir: string;
  ctx: GitContext;
}

/** configuration.local (relative to the app dir, ~ allowed), else ../<app>-config beside the app. */
export function configDir(app: App): string {
  const local = app.config.configuration?.local;
  if (!local) return join(dirname(app.dir), `${app.name}-config`);
  return expandHome(local, app.dir);
}

export function hasConfigRepo(app: App): boolean {
  return existsSync(join(configDir(app), ".git"));
}

/** The same credentials as the app (deploy key, token), through the environment only. */
export function configContext(app: App, dir = configDir(app)): GitContext {
  return { dir, env: gitEnv(app) };
}

export function openConfigRepo(app: App): ConfigRepo {
  const dir = configDir(app);
  if (!hasConfigRepo(app)) {
    throw new PreconditionError(
      `no config repo at ${dir}`,
      "create or clone it: protocol config:init [--remote <url>]",
    );
  }
  return { dir, ctx: configContext(app, dir) };
}

/** Every file in the config repo (relative paths, sorted), .git excluded: what gets linked into the app. */
/** What the config repo holds: the regular files protocol links, and what it refuses to link, by name. */
export interface ConfigScan {
  files: string[];
  refused: { path: string; detail: string }[];
}

/**
 * The config repo is data, not code to trust (its remote may be someone else's): only regular files
 * are linked, or links to regular files inside the repo; a link that leads outside it, and a FIFO,
 * socket or device, are refused by name. Nothing is opened: lstat and realpath only.
 */
export function scanConfigRepo(dir: string): ConfigScan {
  const scan: ConfigScan = { files: [], refused: [] };
  const root = existsSync(dir) ? realpathSync(dir) : dir;
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      if (name === ".git") continue;
      const path = rel ? `${rel}/${name}` : name;
      if (hasControlChars(path)) continue;
      const stat = lstatSync(join(dir, path));
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) scan.files.push(path);
      else if (stat.isSymbolicLink()) {
        const target = realpathOrNull(join(dir, path));
        if (target?.startsWith(`${root}/`) && statSync(target).isFile()) scan.files.push(path);
        else
          scan.refused.push({
            path,
            detail: `is a link to ${target ?? readlinkSync(join(dir, path))}, outside the config repo (or not a file): not linked`,
          });
      } else scan.refused.push({ path, detail: `is a ${specialKind(stat)}: protocol links only regular files` });
    }
  };
  if (existsSync(dir)) walk("");
  scan.files.sort();
  return scan;
}

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

function specialKind(stat: Stats): string {
  if (stat.isFIFO()) return "FIFO";
  if (stat.isSocket()) return "socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "device";
  return "special file";
}

/** The regular files of the config repo that protocol links (scanConfigRepo has what it refuses). */
export function listSources(dir: string): string[] {
  return scanConfigRepo(dir).files;
}
