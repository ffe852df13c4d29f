import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import type { App } from "../app/app.ts";
import { PreconditionError } from "../core/errors.ts";
import { fileKind } from "../core/fs.ts";
import { expandHome } from "../core/paths.ts";
import { hasControlChars } from "../core/validate.ts";
import { configGitAuth } from "../git/auth.ts";
import type { GitContext } from "../git/git.ts";
import { readBlobs, treeEntries } from "../git/tree.ts";

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

/** The config repo's own credentials (the app's token never goes to the config remote); environment only. */
export function configContext(app: App, dir = configDir(app)): GitContext {
  return { dir, ...configGitAuth() };
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
        else scan.refused.push({ path, detail: outside(target ?? readlinkSync(join(dir, path))) });
      } else scan.refused.push({ path, detail: `is ${fileKind(stat)}: protocol links only regular files` });
    }
  };
  if (existsSync(dir)) walk("");
  scan.files.sort();
  return scan;
}

const outside = (target: string) => `is a link to ${target}, outside the config repo (or not a file): not linked`;

/** Longest symlink target read from a tree (PATH_MAX); a longer "link" is refused unread. */
const MAX_LINK_TARGET = 4096;

/**
 * scanConfigRepo for a commit not checked out yet (an incoming config commit, an environment to
 * switch to), from git's tree alone: modes say what is a file, a symlink or a submodule; a link's
 * target is resolved inside the tree, and only one that ends at a regular file of the same tree is
 * linked. The plan made before the move refuses what the working tree would refuse after it.
 */
export async function scanConfigTree(ctx: GitContext, rev: string): Promise<ConfigScan> {
  const scan: ConfigScan = { files: [], refused: [] };
  const entries = (await treeEntries(ctx, rev)).filter((e) => !hasControlChars(e.path) && e.path !== ".git");
  const byPath = new Map(entries.map((entry) => [entry.path, entry]));
  const links = entries.filter((e) => e.mode === "120000" && (e.size ?? 0) <= MAX_LINK_TARGET);
  const targets = await readBlobs(
    ctx,
    links.map((e) => e.object),
  );
  /** Follow a link inside the tree to a regular file (a few hops at most); null when it leaves or dangles. */
  const resolveLink = (path: string, hops = 0): string | null => {
    const entry = byPath.get(path);
    if (!entry) return null;
    if (entry.mode === "100644" || entry.mode === "100755") return path;
    if (entry.mode !== "120000" || hops >= 8) return null;
    const target = targets.get(entry.object);
    if (target === undefined || target.startsWith("/")) return null;
    const next = posix.normalize(posix.join(posix.dirname(path), target));
    if (next === ".." || next.startsWith("../") || next === ".git" || next.startsWith(".git/")) return null;
    return resolveLink(next, hops + 1);
  };
  for (const entry of entries) {
    if (entry.mode === "100644" || entry.mode === "100755") scan.files.push(entry.path);
    else if (entry.mode === "120000") {
      if (resolveLink(entry.path) !== null) scan.files.push(entry.path);
      else
        scan.refused.push({
          path: entry.path,
          detail: outside(targets.get(entry.object) ?? "(unreadable)"),
        });
    } else scan.refused.push({ path: entry.path, detail: "is a submodule: protocol links only regular files" });
  }
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

/** The regular files of the config repo that protocol links (scanConfigRepo has what it refuses). */
export function listSources(dir: string): string[] {
  return scanConfigRepo(dir).files;
}
