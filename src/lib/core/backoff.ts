/** Seconds between polls when neither --interval nor git.interval says otherwise. */
export const DEFAULT_INTERVAL = 10;

/** The longest wait between polls while the remote is unreachable (unless the interval is longer). */
export const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * The wait before the next poll: the interval ±20 % (so 100 nodes do not poll in step), doubled
 * per consecutive failure up to MAX_BACKOFF_MS.
 */
export function nextDelayMs(intervalSeconds: number, failures: number, random = Math.random): number {
  const base = intervalSeconds * 1000;
  const jitter = 0.8 + random() * 0.4;
  if (failures <= 0) return Math.round(base * jitter);
  const backoff = Math.min(Math.max(base, MAX_BACKOFF_MS), base * 2 ** Math.min(failures, 16));
  return Math.round(backoff * jitter);
}

/** `baseMs` doubled per consecutive failure after the first, capped like the git backoff. */
export function doublingBackoffMs(baseMs: number, failures: number): number {
  return Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.min(16, Math.max(0, failures - 1)));
}

/** Registry backoff: 30 s doubled per consecutive failure. */
export function registryBackoffMs(failures: number): number {
  return doublingBackoffMs(30_000, failures);
}
