import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** The sha a ref names in `packed-refs` content, or null. Pure, for the table tests. */
export function findPackedRef(packed: string, ref: string): string | null {
  for (const line of packed.split("\n")) {
    const [sha, name] = line.split(" ");
    if (name === ref && sha && SHA.test(sha)) return sha;
  }
  return null;
}

/**
 * HEAD's commit read straight from the files of a plain `.git` directory (loose ref, then
 * packed-refs), so the idle poll spends no process on it. Returns undefined whenever the layout is
 * anything else (a worktree's .git file, reftable, a symref chain): the caller asks git then.
 */
export function readHeadFromFiles(workTree: string): string | undefined {
  const gitDir = join(workTree, ".git");
  try {
    if (!statSync(gitDir).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  const head = read(join(gitDir, "HEAD"))?.trim();
  if (!head) return undefined;
  if (SHA.test(head)) return head;
  const ref = /^ref: (refs\/heads\/\S+)$/.exec(head)?.[1];
  if (!ref) return undefined;
  const loose = read(join(gitDir, ref))?.trim();
  if (loose !== undefined && loose !== null) return SHA.test(loose) ? loose : undefined;
  const packed = read(join(gitDir, "packed-refs"));
  return (packed && findPackedRef(packed, ref)) ?? undefined;
}
