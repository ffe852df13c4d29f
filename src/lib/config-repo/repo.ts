import { existsSync, lstatSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { PreconditionError } from "../core/errors.ts";
import { expandHome } from "../core/paths.ts";
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
export function listSources(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      if (name === ".git") continue;
      const path = rel ? `${rel}/${name}` : name;
      const stat = lstatSync(join(dir, path));
      if (stat.isDirectory()) walk(path);
      else if (!path.includes("\n")) out.push(path);
    }
  };
  if (existsSync(dir)) walk("");
  return out.sort();
}
