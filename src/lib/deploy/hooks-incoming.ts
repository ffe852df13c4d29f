/**
 * An incoming commit's beforeMove steps run before the move that brings the commit (its hooks govern
 * taking it: a push can fix a hook a push broke). A step that names a file the same commit brings
 * cannot run yet: it is skipped this once, said in the log, and runs from the commit's next deploy on.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, normalize, relative } from "node:path";
import type { App } from "../app/app.ts";
import { type GitContext, git } from "../git/git.ts";
import type { ProtocolJson } from "../schema/protocol-json.ts";

/** The paths inside the app a host step's argv names (`./drain.sh`, `scripts/drain.sh`), relative to the app. */
function namedPaths(app: App, argv: readonly string[]): string[] {
  return argv.flatMap((arg) => {
    if (isAbsolute(arg) || arg.startsWith("-") || !(arg.startsWith("./") || arg.includes("/"))) return [];
    const rel = relative(app.dir, normalize(join(app.dir, arg)));
    return rel === "" || rel.startsWith("..") ? [] : [rel];
  });
}

/** "beforeMove:<n>" of each step that names a file `commit` brings and the working copy has not yet, with that file. */
export async function stepsComingWith(
  app: App,
  ctx: GitContext,
  commit: string,
  config: ProtocolJson,
): Promise<Map<string, string>> {
  const coming = new Map<string, string>();
  for (const [index, step] of (config.deploy?.hooks?.beforeMove ?? []).entries()) {
    if (step.service) continue;
    for (const path of namedPaths(app, step.run)) {
      if (existsSync(join(app.dir, path))) continue;
      if ((await git(ctx, ["cat-file", "-e", `${commit}:${path}`])).ok) {
        coming.set(`beforeMove:${index + 1}`, path);
        break;
      }
    }
  }
  return coming;
}
