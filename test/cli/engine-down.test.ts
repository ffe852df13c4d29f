/**
 * Issue 12, as the operator met it: `start` on a fresh VPS with the docker engine stopped. The
 * error names the cause (not "Traceback", not "error: error:"), the commit is not quarantined,
 * and once the engine is up the loop deploys it with no new push. (Fake docker: its engine is
 * "down" while a file exists.)
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, Fixture, git } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

describe("the docker engine is down at start (fake docker)", () => {
  test("start names the cause; the loop deploys the same commit once the engine is back", async () => {
    const commit = await fx.push({ "docker-compose.yml": "services: {}\n" });
    await git(fx.node, "pull", "--quiet");
    const down = join(fx.root, "engine-down");
    writeFileSync(down, "");
    const env = { FAKE_DOCKER_ENGINE_DOWN: down };
    const start = await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"], { fakeDocker: true, env });
    expect(start.stderr).toContain("the docker engine is not running");
    expect(start.stderr).toContain("systemctl start docker");
    expect(start.stderr).not.toContain("error: error:");
    expect(start.stderr).not.toContain("rolled back");
    const status = async () =>
      JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"], { fakeDocker: true, env })).stdout);
    expect((await status()).quarantine).toBeNull();

    rmSync(down);
    expect(await eventually(async () => (await status()).deployedCommit === commit, 20_000)).toBe(true);
    expect((await status()).quarantine).toBeNull();
  }, 40_000);

  test("a one-shot git:pull says the cause once, without a doubled prefix", async () => {
    await fx.push({ "docker-compose.yml": "services: {}\n" });
    await git(fx.node, "pull", "--quiet");
    const down = join(fx.root, "engine-down");
    writeFileSync(down, "");
    const run = await fx.cli(["git:pull", "--dir", fx.node], {
      fakeDocker: true,
      env: { FAKE_DOCKER_ENGINE_DOWN: down },
    });
    expect(run.exitCode).toBe(6);
    const errorLine = run.stderr.split("\n").find((line) => line.startsWith("error:"));
    expect(errorLine).toBe(
      "error: docker compose pull failed: the docker engine is not running (or not reachable at DOCKER_HOST)",
    );
  });
});

describe("--verbose", () => {
  test("prints the failing step's argv and its whole stderr", async () => {
    await fx.push({ "docker-compose.yml": "services: {}\n" });
    await git(fx.node, "pull", "--quiet");
    const run = await fx.cli(["git:pull", "--dir", fx.node, "--verbose"], {
      fakeDocker: true,
      env: { FAKE_DOCKER_FAIL: "up", FAKE_DOCKER_STDERR: "first line\nthe middle\nlast line" },
    });
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toMatch(
      /docker compose --project-name node-[0-9a-f]{8} --file docker-compose\.yml up -d --remove-orphans exited 1/,
    );
    for (const line of ["first line", "the middle", "last line"]) expect(run.stderr).toContain(`  ${line}`);
    const quiet = await fx.cli(["git:pull", "--dir", fx.node], {
      fakeDocker: true,
      env: { FAKE_DOCKER_FAIL: "up", FAKE_DOCKER_STDERR: "first line\nthe middle\nlast line" },
    });
    expect(quiet.stderr).not.toContain("exited 1");
  });
});
