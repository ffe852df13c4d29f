/** Issue 14: no silent skips in CI. A test whose tool is missing is skipped (saying why) outside CI, and fails under CI=true. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, sh } from "../helpers/fixture.ts";
import { sshGitMissing } from "../helpers/ssh-git.ts";

const dir = mkdtempSync(join(tmpdir(), "protocol-needs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, "tool.test.ts");
writeFileSync(
  file,
  `import { testNeeding } from ${JSON.stringify(join(import.meta.dir, "..", "helpers", "needs.ts"))};\n` +
    `testNeeding("frobnicate is not installed (apt-get install frobnicate)")("uses frobnicate", () => {});\n`,
);
const run = (env: Record<string, string | undefined>) => sh([process.execPath, "test", file], { env, cwd: dir });

describe("testNeeding", () => {
  test("outside CI: skipped, and the reason printed", async () => {
    const result = await run({ CI: undefined });
    expect(result.exitCode).toBe(0);
    expect(result.stdout + result.stderr).toContain(
      "skipping: frobnicate is not installed (apt-get install frobnicate)",
    );
    expect(result.stdout + result.stderr).toMatch(/1 skip/);
  });

  test("under CI=true: the test fails with the install hint", async () => {
    const result = await run({ CI: "true" });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout + result.stderr).toContain(
      "frobnicate is not installed (apt-get install frobnicate) (CI=true",
    );
  });
});

describe("the tests that need machine set-up go through it", () => {
  const sshTests = join(REPO_ROOT, "test", "integration", "ssh-deploy-keys.test.ts");
  const runSsh = (env: Record<string, string | undefined>) =>
    sh([process.execPath, "test", sshTests], { env, cwd: REPO_ROOT });

  test("ssh deploy keys without sshd or the git user: skipped with the reason outside CI, failing under CI=true", async () => {
    const missing = sshGitMissing();
    // A machine .ci/run set up runs the file for real (in the suite); there is nothing to skip.
    if (missing === null) return;
    const outside = await runSsh({ CI: undefined });
    expect(outside.exitCode, outside.stdout + outside.stderr).toBe(0);
    expect(outside.stdout + outside.stderr).toContain(`skipping: ${missing}`);
    expect(outside.stdout + outside.stderr).toMatch(/3 skip/);
    expect(outside.stdout + outside.stderr).not.toContain("TypeError");
    const ci = await runSsh({ CI: "true" });
    expect(ci.exitCode).not.toBe(0);
    expect(ci.stdout + ci.stderr).toContain(`${missing} (CI=true`);
  });
});
