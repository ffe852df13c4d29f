import { closeSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { App } from "../app/app.ts";
import { openRegularFile, type RegularFile } from "../core/fs.ts";
import { configDir, hasConfigRepo, listSources } from "./repo.ts";

/** A file bigger than this is hashed by size and mtime, not read (the idle poll hashes every file). */
export const MAX_HASHED_BYTES = 16 * 1024 * 1024;

/** A regular file's bytes (a FIFO or device swapped in is never opened or waited on), or a stand-in. */
function contentOf(path: string): Buffer | string {
  let file: RegularFile | null;
  try {
    file = openRegularFile(path);
  } catch {
    file = null;
  }
  if (file === null) return "\u0000missing";
  if ("refused" in file) return "\u0000not-a-file";
  try {
    if (file.size > MAX_HASHED_BYTES) return `\u0000large ${file.size} ${file.mtimeMs}`;
    return readFileSync(file.fd);
  } finally {
    closeSync(file.fd);
  }
}

/** One sha256 over every file's path and content: changes when any linked file changes, says nothing about them. */
export function hashFiles(dir: string, paths: readonly string[]): string {
  const hash = new Bun.CryptoHasher("sha256");
  for (const path of [...paths].sort())
    hash
      .update(path)
      .update("\0")
      .update(contentOf(join(dir, path)))
      .update("\0");
  return hash.digest("hex");
}

/** The hash of the config the app sees through its links, or null when the app has no config repo. */
export function configHash(app: App): string | null {
  if (!hasConfigRepo(app)) return null;
  const dir = configDir(app);
  return hashFiles(dir, listSources(dir));
}
