/**
 * A file the deploy will read after the working copy moves (the app's .env for hooks with
 * `"env": "app"`), checked before it moves: as readRepoFile will read it then, a regular file under
 * the cap. A refusal here leaves the working copy where it is.
 */
import { isAbsolute, join, posix } from "node:path";
import { ConfigError, errorMessage } from "../core/errors.ts";
import { assertWithinCap, readRepoFile } from "../core/fs.ts";
import type { GitContext } from "../git/git.ts";
import { readBlobs, treeEntry } from "../git/tree.ts";

/** Links followed inside the commit before giving up (as scanConfigTree does). */
const MAX_HOPS = 8;

const REGULAR = new Set(["100644", "100755"]);

/**
 * What the app's `path` is at commit `rev`: the commit's own file (its size from git), a link the
 * commit holds (followed inside the tree; a target out of it checked on disk), or, when the commit
 * has none, what is on disk now (a node-local file, a link into the config repo).
 */
export async function assertReadableAfterMove(
  ctx: GitContext,
  rev: string,
  path: string,
  limit: { cap: number; hint: string },
): Promise<void> {
  const where = `${path} at ${rev.slice(0, 8)}`;
  const onDisk = (full: string, via: string) => {
    try {
      readRepoFile(full, limit);
    } catch (error) {
      throw new ConfigError(`${where}${via}: ${errorMessage(error)}`, limit.hint);
    }
  };
  let current = path;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const entry = await treeEntry(ctx, rev, current);
    if (!entry) return onDisk(join(ctx.dir, current), "");
    if (REGULAR.has(entry.mode)) return assertWithinCap(entry.size ?? 0, limit.cap, where, limit.hint);
    if (entry.mode !== "120000")
      throw new ConfigError(
        `${where} is a ${entry.type === "tree" ? "directory" : "submodule"}, not a file`,
        limit.hint,
      );
    const target = (await readBlobs(ctx, [entry.object])).get(entry.object) ?? "";
    const next = isAbsolute(target) ? target : posix.normalize(posix.join(posix.dirname(current), target));
    // Out of the commit (an absolute path, a link into the config repo beside the app): what is there now.
    if (isAbsolute(next) || next === ".." || next.startsWith("../"))
      return onDisk(isAbsolute(next) ? next : join(ctx.dir, next), ` (a link to ${target})`);
    current = next;
  }
  throw new ConfigError(`${where} is a chain of more than ${MAX_HOPS} links`, limit.hint);
}
