import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { diskFullOr } from "./errors.ts";

/**
 * Write a file atomically: a temp file in the same directory, fsync (unless `durable` is false, for
 * state rewritten on every poll), then rename over the target.
 */
export function writeFileAtomic(path: string, data: string, mode = 0o644, durable = true): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(tmp, "w", mode);
    try {
      writeSync(fd, data);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw diskFullOr(error, dirname(path));
  }
}

export function writeJsonAtomic(path: string, value: unknown, durable = true, mode = 0o644): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, mode, durable);
}

/** The file's text, or null when it does not exist. */
export function readTextOrNull(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}
