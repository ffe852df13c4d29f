/**
 * What a background loop's log says of each poll: one line for every change of outcome, and the
 * same failure again at most hourly (as notifications are), so `slave.log` reads as a history of
 * what happened, not one line per poll.
 */

/** The same failure is logged again after this long. */
export const REPEAT_MS = 60 * 60_000;

/** What the loop last said (kept in its state file). */
export interface Announced {
  result: string;
  error: string | null;
  at: string;
}

/** "change": a new result or error; "repeat": the same failure, an hour on; null: nothing to say. */
export function newsOf(
  last: Announced | null,
  current: { result: string; error: string | null; failing: boolean },
  now: number,
): "change" | "repeat" | null {
  if (!last || last.result !== current.result || last.error !== current.error) return "change";
  return current.failing && now - Date.parse(last.at) >= REPEAT_MS ? "repeat" : null;
}
