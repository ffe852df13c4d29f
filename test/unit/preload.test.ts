/**
 * test/preload.ts keeps the machine's docker out of reach (issue 24): a bun installed beside a real
 * docker (both in /usr/local/bin, say) must not bring that docker before the refusing one.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NO_DOCKER_DIR, REPO_ROOT, sh } from "../helpers/fixture.ts";

const root = mkdtempSync(join(tmpdir(), "protocol-preload-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A bin dir with this bun in it (a hard link: its execPath is then this dir) and a "real" docker. */
function bunBesideDocker(): string {
  const bin = join(root, "usr-local-bin");
  const bun = join(bin, "bun");
  mkdirSync(bin, { recursive: true });
  try {
    linkSync(process.execPath, bun);
  } catch {
    copyFileSync(process.execPath, bun);
    chmodSync(bun, 0o755);
  }
  writeFileSync(join(bin, "docker"), "#!/bin/sh\necho REAL DOCKER\n");
  chmodSync(join(bin, "docker"), 0o755);
  return bin;
}

describe("the preload's PATH", () => {
  test("with bun installed beside a real docker, a test reaches the refusing docker, never the real one", async () => {
    const bin = bunBesideDocker();
    const probe = join(root, "probe.test.ts");
    // As the tests and src/ do: the lookup and the child's environment from process.env.
    const body = () => {
      const path = process.env.PATH ?? "";
      const run = Bun.spawnSync(["docker", "ps"], { env: process.env });
      console.log(`which=${Bun.which("docker", { PATH: path })}`);
      console.log(`ran=${run.stdout.toString().trim()}|${run.stderr.toString().trim()}`);
      console.log(`bun=${Bun.which("bun", { PATH: path })}`);
    };
    writeFileSync(probe, `import { test } from "bun:test";\ntest("probe", ${body.toString()});\n`);
    const run = await sh([join(bin, "bun"), "test", "--preload", join(REPO_ROOT, "test", "preload.ts"), probe], {
      cwd: root,
      env: { PATH: `${bin}:/usr/bin:/bin` },
    });
    const out = run.stdout + run.stderr;
    expect(run.exitCode, out).toBe(0);
    expect(out).toContain(`which=${join(NO_DOCKER_DIR, "docker")}\n`);
    expect(out).not.toContain("REAL DOCKER");
    // The fakes' `#!/usr/bin/env bun` still finds a bun.
    expect(out).toMatch(/bun=\/\S+\/bun\n/);
  });
});
