/** What one pass came to: its result, and what it did on the way. Types only (renderers, recorders and commands share it). */
import type { SyncResult } from "../schema/state.ts";

export type DirtyPolicy = "refuse" | "stash";
export type DivergedPolicy = "refuse" | "reset";

export interface SyncOutcome {
  result: SyncResult;
  /** HEAD before the pass and after it. */
  from: string | null;
  to: string | null;
  remoteCommit: string | null;
  error: string | null;
  hint?: string;
  /** Stash commit or backup ref that holds work moved aside, when an opt-in policy moved it. */
  keptAs: string | null;
  fetched: boolean;
  composeRan: boolean;
  /** Services the pass started again after they stopped behind protocol's back. */
  healed: string[];
  /** Services the pass found crash-looping and left alone. */
  crashLooping: string[];
  /** A deploy's time, from the start of the pass to healthy (the deploy log's durationMs): the log line says the same. */
  durationMs?: number;
}
