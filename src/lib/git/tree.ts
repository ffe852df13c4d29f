/** A commit's tree as git stores it: entries with modes and sizes, and small blobs read in one git. */
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
