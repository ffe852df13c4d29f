import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, sh } from "./fixture.ts";

const builds = new Map<string, Promise<string>>();

/**
 * The real compiled binary for `target` (default: the host), built once per test run with
 * scripts/build.ts and shared by every test file that asks. Tests copy it before changing it.
 */
export function builtBinary(target?: string): Promise<string> {
  const key = target ?? "host";
  let build = builds.get(key);
  if (!build) {
    build = (async () => {
      // Under the test run's temp dir (test/preload.ts), removed with it after the last file.
      const dir = mkdtempSync(join(tmpdir(), `protocol-build-${key}-`));
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
