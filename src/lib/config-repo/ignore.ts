import { join } from "node:path";
import { MAX_REPO_FILE_BYTES, readRepoFile, readTextOrNull, writeFileAtomic } from "../core/fs.ts";
import { type GitContext, gitPath } from "../git/git.ts";

/**
 * The app repo ignores the links protocol makes through one marked block in .git/info/exclude,
 * local to this clone. protocol never writes a tracked file of the app: a block someone committed
 * in .gitignore is read (its paths count as protocol's) and left alone. The block is also the
 * record of which paths protocol linked, so unlink and refresh know what is theirs.
 */
export const IGNORE_BEGIN = "# BEGIN protocol config (links into the config repo; managed by protocol config:link)";
export const IGNORE_END = "# END protocol config";

/** One anchored gitignore pattern matching exactly `path`: glob characters and trailing spaces escaped. */
export function escapeIgnorePattern(path: string): string {
  const escaped = path.replace(/[\\*?[\]]/g, (c) => `\\${c}`).replace(/ +$/, (spaces) => spaces.replace(/ /g, "\\ "));
  return `/${escaped}`;
}

export function unescapeIgnorePattern(pattern: string): string {
  return pattern.replace(/^\//, "").replace(/\\(.)/g, "$1");
}

/** The paths in the marked block, or [] when there is none. */
export function parseIgnoreBlock(text: string): string[] {
  const lines = text.split("\n");
  const begin = lines.indexOf(IGNORE_BEGIN);
  if (begin === -1) return [];
  const end = lines.indexOf(IGNORE_END, begin);
  return lines
    .slice(begin + 1, end === -1 ? undefined : end)
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map(unescapeIgnorePattern);
}

/** `text` with the marked block replaced by one listing `paths` (sorted); no block when `paths` is empty. */
export function replaceIgnoreBlock(text: string, paths: readonly string[]): string {
  const lines = text.split("\n");
  const begin = lines.indexOf(IGNORE_BEGIN);
  if (begin !== -1) {
    const end = lines.indexOf(IGNORE_END, begin);
    lines.splice(begin, (end === -1 ? lines.length : end + 1) - begin);
  }
  let rest = lines.join("\n").replace(/\n+$/, "");
  if (paths.length === 0) return rest === "" ? "" : `${rest}\n`;
  const block = [IGNORE_BEGIN, ...[...paths].sort().map(escapeIgnorePattern), IGNORE_END].join("\n");
  rest = rest === "" ? "" : `${rest}\n`;
  return `${rest}${block}\n`;
}

export interface IgnoreFile {
  path: string;
  kind: "exclude" | "gitignore";
}

/** Where protocol writes the block: always .git/info/exclude. */
export async function locateIgnoreFile(ctx: GitContext): Promise<IgnoreFile> {
  return { path: await gitPath(ctx, "info/exclude"), kind: "exclude" };
}

/** The app's .gitignore, a file of the app repo: read as any file from the repos is (readRepoFile). */
function readGitignore(appDir: string): string {
  return readRepoFile(join(appDir, ".gitignore"), { cap: MAX_REPO_FILE_BYTES })?.toString("utf8") ?? "";
}

/** Whether the app's .gitignore holds a protocol block (committed by someone): left alone, reported by config:status. */
export function gitignoreHoldsBlock(appDir: string): boolean {
  return parseIgnoreBlock(readGitignore(appDir)).length > 0;
}

/** Paths recorded in either place (a switch from one to the other must not forget the old entries). */
export async function readOwnedPaths(appDir: string, ctx: GitContext): Promise<string[]> {
  const exclude = await gitPath(ctx, "info/exclude");
  const both = [...parseIgnoreBlock(readTextOrNull(exclude) ?? ""), ...parseIgnoreBlock(readGitignore(appDir))];
  return [...new Set(both)];
}

export function writeIgnoreBlock(file: IgnoreFile, paths: readonly string[]): void {
  const current = readTextOrNull(file.path);
  if (current === null && paths.length === 0) return;
  const next = replaceIgnoreBlock(current ?? "", paths);
  if (next !== current) writeFileAtomic(file.path, next);
}
