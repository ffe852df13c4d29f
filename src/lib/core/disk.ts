/** Free space, for the checks made before something big is written (a sync's files, a release download). */
import { existsSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { dirname } from "node:path";

/** Free bytes for an unprivileged writer on the file system holding `path`. */
export async function freeBytes(path: string): Promise<number> {
  // A dir not made yet lives on its nearest existing parent's file system.
  let at = path;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  const fs = await statfs(at);
  return Number(fs.bavail) * Number(fs.bsize);
}

/** Bytes as MB for a message: one decimal under 10 MB. */
export function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0);
}
