import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { ConfigError, diskFullOr } from "./errors.ts";

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

/** What protocol reads of a small file of the app or the config repo (.env, .gitignore, a compose file). */
export const MAX_REPO_FILE_BYTES = 1024 * 1024;

/** What a path that is not a regular file is, for a refusal. */
export function fileKind(stat: Stats): string {
  if (stat.isDirectory()) return "a directory";
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  return "a special file";
}

/** "1 MB", "4.2 MB", "512 KB", "12 bytes". */
export function formatBytes(bytes: number): string {
  const units: [string, number][] = [
    ["MB", 1024 * 1024],
    ["KB", 1024],
  ];
  const [unit, size] = units.find(([, scale]) => bytes >= scale) ?? ["bytes", 1];
  return `${(bytes / size).toFixed(1).replace(/\.0$/, "")} ${unit}`;
}

/** A file of the app or the config repo bigger than protocol reads: refused by name, with both sizes. */
export function assertWithinCap(bytes: number, cap: number, path: string, hint: string): void {
  if (bytes > cap)
    throw new ConfigError(`${path} is ${formatBytes(bytes)}; it may be at most ${formatBytes(cap)}`, hint);
}

/** An open regular file (the final target of any links), or why it is not one; null when there is none. */
export type RegularFile = { fd: number; size: number; mtimeMs: number } | { refused: string };

/**
 * Open the regular file at `path`, through links (an app's link into the config repo is normal):
 * the final target is stat'ed before it is opened, so a device is never opened (opening one can
 * have effects), and opened without following a link and without blocking, then fstat'ed again,
 * so a FIFO or device swapped in meanwhile is refused too. null when nothing (or a dangling link) is there.
 */
export function openRegularFile(path: string): RegularFile | null {
  let target: string;
  try {
    target = realpathSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    if (code === "ELOOP") return { refused: `${path} is a loop of links: protocol reads only regular files` };
    throw error;
  }
  const via = lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ? ` (a link to ${target})` : "";
  const before = statSync(target, { throwIfNoEntry: false });
  if (!before) return null;
  if (!before.isFile()) return { refused: `${path}${via} is ${fileKind(before)}: protocol reads only regular files` };
  const fd = openSync(target, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  const stat = fstatSync(fd);
  if (stat.isFile()) return { fd, size: stat.size, mtimeMs: stat.mtimeMs };
  closeSync(fd);
  return { refused: `${path}${via} is ${fileKind(stat)}: protocol reads only regular files` };
}

/**
 * The one way protocol reads a file of the app or the config repo (.env, protocol.json, compose
 * files…): a regular file only, at most `cap` bytes, else refused by name with the sizes; null
 * when it does not exist. Never more than cap + 1 bytes are read, whatever the file claims.
 */
export function readRepoFile(path: string, options: { cap: number; hint?: string }): Buffer | null {
  const hint = options.hint ?? "make it a regular file of a sensible size (protocol reads it whole)";
  const file = openRegularFile(path);
  if (file === null) return null;
  if ("refused" in file) throw new ConfigError(file.refused, hint);
  try {
    assertWithinCap(file.size, options.cap, path, hint);
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, options.cap + 1 - length));
      const read = readSync(file.fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      length += read;
      // It grew after the fstat: still never more than cap + 1 bytes read.
      assertWithinCap(length, options.cap, path, hint);
    }
    return Buffer.concat(chunks, length);
  } finally {
    closeSync(file.fd);
  }
}
