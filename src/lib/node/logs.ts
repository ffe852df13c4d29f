import { closeSync, openSync, readSync, statSync } from "node:fs";
import { readTextOrNull } from "../core/fs.ts";

/** The last `count` lines of a loop's log, the rotated file (`<log>.1`) first when the current one is short. */
export function lastLines(path: string, count: number): string[] {
  // slice(-0) is the whole array: 0 lines is none.
  if (count <= 0) return [];
  const lines = (text: string | null) => (text ?? "").split("\n").filter((line) => line !== "");
  const current = lines(readTextOrNull(path));
  if (current.length >= count) return current.slice(-count);
  return [...lines(readTextOrNull(`${path}.1`)), ...current].slice(-count);
}

function size(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}

/**
 * Follow a log as `tail -F` does: print what is appended, start over when the file is rotated or
 * truncated (it got smaller), wait while it does not exist. Until the signal aborts.
 */
export async function followLog(
  path: string,
  write: (text: string) => void,
  signal: AbortSignal,
  pollMs = 250,
): Promise<void> {
  let offset = size(path);
  const buffer = Buffer.alloc(64 * 1024);
  while (!signal.aborted) {
    const now = size(path);
    if (now < offset) offset = 0;
    if (now > offset) {
      const fd = openSync(path, "r");
      try {
        for (let read = readSync(fd, buffer, 0, buffer.length, offset); read > 0; ) {
          write(buffer.subarray(0, read).toString("utf8"));
          offset += read;
          read = readSync(fd, buffer, 0, buffer.length, offset);
        }
      } finally {
        closeSync(fd);
      }
    }
    await Bun.sleep(pollMs);
  }
}
