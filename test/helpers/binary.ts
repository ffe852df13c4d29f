import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, sh } from "./fixture.ts";

const builds = new Map<string, Promise<string>>();
const dirs: string[] = [];
process.on("exit", () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * The real compiled binary for `target` (default: the host), built once per test run with
 * scripts/build.ts and shared by every test file that asks. Tests copy it before changing it.
 */
export function builtBinary(target?: string): Promise<string> {
  const key = target ?? "host";
  let build = builds.get(key);
  if (!build) {
    build = (async () => {
      const dir = mkdtempSync(join(tmpdir(), `protocol-build-${key}-`));
      dirs.push(dir);
      const out = join(dir, "protocol");
      const run = await sh([
        process.execPath,
        join(REPO_ROOT, "scripts", "build.ts"),
        "--outfile",
        out,
        ...(target ? ["--target", target] : []),
      ]);
      if (run.exitCode !== 0) throw new Error(`build failed: ${run.stderr}`);
      return out;
    })();
    builds.set(key, build);
  }
  return build;
}
