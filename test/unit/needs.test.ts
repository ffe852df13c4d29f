/** Issue 14: no silent skips in CI. A test whose tool is missing is skipped (saying why) outside CI, and fails under CI=true. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sh } from "../helpers/fixture.ts";

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
