import type { StatusEntry } from "./parse.ts";

/** What a working copy holds that a sync must not throw away. */
export interface LocalWork {
  changes: readonly StatusEntry[];
  ahead: number;
  behind: number;
}

export interface Refusal {
  result: "dirty" | "ahead" | "diverged";
  error: string;
  hint: string;
}

/**
 * The safety rule shared by the app sync and the config sync: refuse uncommitted changes and local
 * commits unless an opt-in policy says how to keep them. Pure; decided before anything moves.
 */
export function classifyLocalWork(
  work: LocalWork,
  upstream: string,
  allow: { dirty: boolean; ahead: boolean },
  hints: { dirty: string; ahead: string },
): Refusal | null {
  const { changes, ahead, behind } = work;
  if (changes.length > 0 && !allow.dirty) {
    const names = changes
      .slice(0, 3)
      .map((c) => c.path)
      .join(", ");
    return {
      result: "dirty",
      error: `uncommitted changes to ${changes.length} tracked file(s): ${names}${changes.length > 3 ? ", …" : ""}`,
      hint: hints.dirty,
    };
  }
  if (ahead > 0 && !allow.ahead) {
    return {
      result: behind > 0 ? "diverged" : "ahead",
      error: `${ahead} local commit(s) not on ${upstream}${behind > 0 ? ` and ${behind} remote commit(s) not here` : ""}`,
      hint: hints.ahead,
    };
  }
  return null;
}
