/** A commit's tree as git stores it: entries with modes and sizes, and small blobs read in one git. */
import { assertWithinCap } from "../core/fs.ts";
import { type GitContext, git, gitOutput } from "./git.ts";
import { parseCatFileBatch, parseLsTreeLong, type TreeEntry } from "./parse.ts";

/** Every entry of a commit's tree, with modes (file, symlink, submodule) and blob sizes. */
export async function treeEntries(ctx: GitContext, rev: string): Promise<TreeEntry[]> {
  return parseLsTreeLong(await gitOutput(ctx, ["ls-tree", "-r", "-z", "--long", "--full-tree", rev]));
}

/** The contents of small blobs (symlink targets), in one git: object → text; an unreadable one is missing. */
export async function readBlobs(ctx: GitContext, objects: readonly string[]): Promise<Map<string, string>> {
  if (objects.length === 0) return new Map();
  const result = await git(ctx, ["cat-file", "--batch"], { input: `${objects.join("\n")}\n` });
  return result.ok ? parseCatFileBatch(result.stdout, objects) : new Map();
}

/** One entry of a commit's tree (`path` relative to its root), or null when the commit has none there. */
export async function treeEntry(ctx: GitContext, rev: string, path: string): Promise<TreeEntry | null> {
  const listed = await git(ctx, ["ls-tree", "-z", "--long", "--full-tree", rev, "--", path]);
  return (listed.ok ? parseLsTreeLong(listed.stdout) : []).find((entry) => entry.path === path) ?? null;
}

/**
 * A file of a commit not checked out yet, as text, with its size asked first: refused above `cap`
 * (never read), null when the commit has none. `where` names it in the refusal.
 */
export async function showCapped(
  ctx: GitContext,
  rev: string,
  path: string,
  limit: { cap: number; where: string; hint: string },
): Promise<string | null> {
  const size = await git(ctx, ["cat-file", "-s", `${rev}:${path}`]);
  if (!size.ok) return null;
  assertWithinCap(Number(size.stdout.trim()), limit.cap, limit.where, limit.hint);
  const shown = await git(ctx, ["show", `${rev}:${path}`]);
  return shown.ok ? shown.stdout : null;
}
