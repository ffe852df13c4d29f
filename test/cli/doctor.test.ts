import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Fixture } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => {
  fx = await Fixture.create();
  writeFileSync(join(fx.node, "protocol.json"), JSON.stringify({ name: "shop" }));
});
afterEach(async () => fx[Symbol.asyncDispose]());

/** doctor with the fake docker, its docker root in the fixture (a real dir on this machine). */
function doctor(args: string[] = [], env: Record<string, string | undefined> = {}) {
  return fx.cli(["doctor", "--dir", fx.node, ...args], {
    fakeDocker: true,
    env: { FAKE_DOCKER_ROOT: fx.root, ...env },
  });
}

const line = (stdout: string, name: string) => stdout.split("\n").find((l) => l.slice(3).startsWith(`${name} `)) ?? "";

describe("doctor (fake docker, fake crontab)", () => {
  test("passes every check on a set-up node and exits 0", async () => {
    expect((await fx.cli(["cron:add", "--dir", fx.node])).exitCode).toBe(0);
    const run = await doctor();
    expect(run.exitCode).toBe(0);
    for (const name of [
      "git",
      "docker engine",
      "compose v2",
      "protocol.json",
      "remote",
      "disk (app)",
      "crontab",
      "disk (docker root)",
    ]) {
      expect(line(run.stdout, name)).toStartWith("✔");
    }
    // A local remote needs no known_hosts entry, and no git.key is configured: not applicable.
    expect(line(run.stdout, "known_hosts")).toStartWith("-");
    expect(line(run.stdout, "deploy key")).toStartWith("-");
    expect(run.stdout).toContain("all checks passed");
    expect(run.stderr).not.toContain("error:");
  });

  test("an unreachable docker engine is a ✖ line with a fix, and doctor exits 4", async () => {
    await fx.cli(["cron:add", "--dir", fx.node]);
    const run = await doctor([], { FAKE_DOCKER_FAIL: "version" });
    expect(run.exitCode).toBe(4);
    expect(line(run.stdout, "docker engine")).toMatch(/^✖ .*fix: start the engine/);
    expect(line(run.stdout, "git")).toStartWith("✔");
    expect(run.stderr).toContain("error: 1 check failed: docker engine");
  });

  test("a missing @reboot line fails the crontab check with cron:add as the fix", async () => {
    const run = await doctor();
    expect(run.exitCode).toBe(4);
    expect(line(run.stdout, "crontab")).toContain(`fix: protocol cron:add --dir ${fx.node}`);
  });

  test("compose v1 only is a warning: shown with a fix, but doctor still passes", async () => {
    await fx.cli(["cron:add", "--dir", fx.node]);
    const bin = mkdtempSync(join(tmpdir(), "protocol-v1-"));
    writeFileSync(join(bin, "docker-compose"), "#!/bin/sh\necho 'docker-compose version 1.29.2, build unknown'\n", {
      mode: 0o755,
    });
    const run = await fx.cli(["doctor", "--dir", fx.node], {
      fakeDocker: true,
      env: {
        FAKE_DOCKER_ROOT: fx.root,
        FAKE_DOCKER_NO_COMPOSE: "1",
        PATH: `${join(import.meta.dir, "..", "fixtures", "fake-docker")}:${bin}:${process.env.PATH}`,
      },
    });
    expect(line(run.stdout, "compose v2")).toMatch(/^⚠ .*1\.29\.2.*fix: install the compose v2 plugin/);
    expect(run.stdout).toContain("all checks passed (1 warning)");
    expect(run.exitCode).toBe(0);
  });

  test("an invalid protocol.json is one failing check; the other checks still run", async () => {
    writeFileSync(join(fx.node, "protocol.json"), JSON.stringify({ git: { interval: 0 } }));
    const run = await doctor();
    expect(run.exitCode).toBe(4);
    expect(line(run.stdout, "protocol.json")).toMatch(/^✖ .*git\.interval/);
    expect(line(run.stdout, "remote")).toStartWith("✔");
  });

  test("a remote that does not answer fails the remote check", async () => {
    await Bun.$`git -C ${fx.node} remote set-url origin ${join(fx.root, "gone.git")}`.quiet();
    const run = await doctor();
    expect(run.exitCode).toBe(4);
    expect(line(run.stdout, "remote")).toMatch(/^✖ .*unreachable.*fix:/);
  });

  test("--json prints one document with every check, and still exits 4 on a failure", async () => {
    const run = await doctor(["--json"], { FAKE_DOCKER_FAIL: "version" });
    expect(run.exitCode).toBe(4);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(false);
    expect(report.checks.map((check: { name: string }) => check.name)).toEqual([
      "git",
      "docker engine",
      "compose v2",
      "protocol.json",
      "remote",
      "known_hosts",
      "remote (config)",
      "status remote",
      "credentials",
      "deploy key",
      "registry",
      "disk (app)",
      "crontab",
      "disk (docker root)",
      "slave mode",
    ]);
    expect(report.checks.find((check: { name: string }) => check.name === "docker engine")).toMatchObject({
      ok: false,
      fix: expect.any(String),
    });
  });

  test("outside any app it still checks the machine and fails the app check", async () => {
    const empty = mkdtempSync(join(tmpdir(), "protocol-empty-"));
    const run = await fx.cli(["doctor"], { cwd: empty, fakeDocker: true, env: { FAKE_DOCKER_ROOT: fx.root } });
    expect(run.exitCode).toBe(4);
    expect(line(run.stdout, "docker engine")).toStartWith("✔");
    expect(line(run.stdout, "app")).toMatch(/^✖ .*--dir/);
  });
});
