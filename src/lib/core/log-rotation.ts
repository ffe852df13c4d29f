/**
 * The background loop's log stays bounded on disk while it runs: past its size it is copied to
 * `<log>.1` and emptied in place (its writers append, so they go on at the start), checked after
 * every megabyte written. Before, it was rotated only when a loop started: a hook that printed a
 * million lines grew it by 60 MB in one deploy.
 */
import { copyFileSync, fstatSync, statSync, truncateSync } from "node:fs";

/** Past this size a loop's log is rotated (one old file kept: at most twice this on disk). */
export const MAX_LOG_BYTES = 5 * 1024 * 1024;
const CHECK_EVERY_BYTES = 1024 * 1024;

let rotation: { path: string; written: number } | null = null;

/** Keep `path` bounded while this process writes its log to it (its stderr; not under systemd's journal). */
export function keepLogBounded(path: string): void {
  try {
    const file = statSync(path);
    const stderr = fstatSync(2);
    rotation = file.ino === stderr.ino && file.dev === stderr.dev ? { path, written: 0 } : null;
  } catch {
    rotation = null;
  }
}

/** Called with each line's size as it is written to stderr. */
export function logWritten(bytes: number): void {
  if (!rotation) return;
  rotation.written += bytes;
  if (rotation.written < CHECK_EVERY_BYTES) return;
  rotation.written = 0;
  try {
    if (statSync(rotation.path).size <= MAX_LOG_BYTES) return;
    copyFileSync(rotation.path, `${rotation.path}.1`);
    truncateSync(rotation.path, 0);
  } catch {
    // a full disk or a removed file: the next megabyte tries again
  }
}
