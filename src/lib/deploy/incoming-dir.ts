/**
 * A temp dir in the state dir for what an incoming commit brings (its compose files, its hook
 * scripts), removed by its deploy when done. A deploy killed meanwhile (kill -9, power loss) cannot
 * remove it: the next one, under the same sync lock, so with none other in use, removes those first.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { App } from "../app/app.ts";

export function incomingDir(app: App, prefix: "incoming-" | "incoming-hooks-"): string {
  mkdirSync(app.paths.root, { recursive: true });
  for (const name of readdirSync(app.paths.root)) {
    if (name.startsWith(prefix)) rmSync(join(app.paths.root, name), { recursive: true, force: true });
  }
  return mkdtempSync(join(app.paths.root, prefix));
}
