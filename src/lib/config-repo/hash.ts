import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { App } from "../node/app.ts";
import { configDir, hasConfigRepo, listSources } from "./repo.ts";

/** One sha256 over every file's path and content: changes when any linked file changes, says nothing about them. */
export function hashFiles(dir: string, paths: readonly string[]): string {
  const hash = new Bun.CryptoHasher("sha256");
  for (const path of [...paths].sort()) {
    hash.update(path).update("\0");
    try {
      hash.update(readFileSync(join(dir, path)));
    } catch {
      hash.update("\u0000missing");
    }
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** The hash of the config the app sees through its links, or null when the app has no config repo. */
export function configHash(app: App): string | null {
  if (!hasConfigRepo(app)) return null;
  const dir = configDir(app);
  return hashFiles(dir, listSources(dir));
}
