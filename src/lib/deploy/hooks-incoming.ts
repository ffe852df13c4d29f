/**
 * An incoming commit's beforeMove steps run before the move that brings the commit: its hooks
 * govern taking it, so a push can fix a hook a push broke. A step that names a script of the app
 * (`./drain.sh`, `scripts/drain.sh`) runs that script as the incoming commit has it: the working
 * copy has the old one, or none yet when the same commit adds the script. The script is written
 * from git into the state dir (its mode kept) and the step's argument points there; the step still
 * runs in the app dir, against the live app.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, normalize, relative } from "node:path";
import type { App } from "../app/app.ts";
import { MAX_REPO_FILE_BYTES } from "../core/fs.ts";
import { type GitContext, git } from "../git/git.ts";
import { showCapped } from "../git/tree.ts";
import type { ProtocolJson } from "../schema/protocol-json.ts";
import { incomingDir } from "./incoming-dir.ts";

/** The path inside the app an argument names (`./drain.sh`, `scripts/drain.sh`), relative to the app; null for any other. */
function appPath(app: App, arg: string): string | null {
  if (isAbsolute(arg) || arg.startsWith("-") || !(arg.startsWith("./") || arg.includes("/"))) return null;
  const rel = relative(app.dir, normalize(join(app.dir, arg)));
  return rel === "" || rel.startsWith("..") ? null : rel;
}

/** The blob and mode of `path` at `rev` (`ls-tree`), or null when it is not a file there. */
async function blobAt(ctx: GitContext, rev: string, path: string): Promise<{ id: string; mode: string } | null> {
  const listed = await git(ctx, ["ls-tree", "-z", rev, "--", path]);
  const entry = /^(\d+) blob ([0-9a-f]+)\t/.exec(listed.stdout);
  return listed.ok && entry ? { mode: entry[1]!, id: entry[2]! } : null;
}

export interface IncomingSteps {
  /** "beforeMove:<n>" → the argv it runs, each script the incoming commit changed or added pointing at its copy. */
  argv: Map<string, string[]>;
  /** Removes the copies (after the steps ran, whatever happened). */
  dispose(): void;
}

/** The beforeMove steps of `config` (the incoming commit's) that run a script `commit` has other than HEAD's. */
export async function incomingScripts(
  app: App,
  ctx: GitContext,
  commit: string,
  config: ProtocolJson,
): Promise<IncomingSteps> {
  const argv = new Map<string, string[]>();
  let dir: string | null = null;
  const dispose = () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const [index, step] of (config.deploy?.hooks?.beforeMove ?? []).entries()) {
      // A service step runs in its container: its paths are the image's.
      if (step.service) continue;
      const run = [...step.run];
      let changed = false;
      for (const [at, arg] of run.entries()) {
        const path = appPath(app, arg);
        if (!path) continue;
        const incoming = await blobAt(ctx, commit, path);
        if (!incoming || incoming.id === (await blobAt(ctx, "HEAD", path))?.id) continue;
        const text = await showCapped(ctx, commit, path, {
          cap: MAX_REPO_FILE_BYTES,
          where: `${path} at ${commit.slice(0, 8)} (a beforeMove step runs it)`,
          hint: "a hook's script is read whole before the working copy moves: keep it under the cap",
        });
        if (text === null) continue;
        dir ??= incomingDir(app, "incoming-hooks-");
        const copy = join(dir, path);
        mkdirSync(dirname(copy), { recursive: true });
        writeFileSync(copy, text);
        chmodSync(copy, incoming.mode === "100755" ? 0o755 : 0o644);
        run[at] = copy;
        changed = true;
      }
      if (changed) argv.set(`beforeMove:${index + 1}`, run);
    }
  } catch (error) {
    dispose();
    throw error;
  }
  return { argv, dispose };
}
