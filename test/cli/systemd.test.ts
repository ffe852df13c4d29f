/**
 * Issue 16, systemd as the supervisor: `start --supervisor systemd` writes a unit per loop (checked
 * by the real `systemd-analyze verify`), hands the loops to it and drops the @reboot line; status,
 * doctor, git:slave:stop, restart and stop go through it. PID 1 here is not systemd, so systemctl is
 * a fake (test/fixtures/fake-systemd: it runs a unit's ExecStart as systemd would, nothing more).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { eventually, Fixture, REPO_ROOT, sh } from "../helpers/fixture.ts";
import { testNeeding } from "../helpers/needs.ts";
import { gone } from "../helpers/processes.ts";

const FAKE_SYSTEMD = join(REPO_ROOT, "test", "fixtures", "fake-systemd");
let fx: Fixture;
let env: Record<string, string>;
beforeEach(async () => {
  fx = await Fixture.create();
  env = {
    PROTOCOL_SYSTEMD_DIR: join(fx.root, "units"),
    FAKE_SYSTEMCTL_LOG: join(fx.root, "systemctl.log"),
    PATH: `${FAKE_SYSTEMD}:${process.env.PATH}`,
  };
});
afterEach(async () => {
  await fx.cli(["stop", "--dir", fx.node], { env });
  await fx[Symbol.asyncDispose]();
});

const run = (args: string[], extra: Record<string, string> = {}) => fx.cli(args, { env: { ...env, ...extra } });
const calls = () =>
  existsSync(env.FAKE_SYSTEMCTL_LOG!)
    ? readFileSync(env.FAKE_SYSTEMCTL_LOG!, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as string[])
    : [];
const units = () =>
  existsSync(env.PROTOCOL_SYSTEMD_DIR!)
    ? readdirSync(env.PROTOCOL_SYSTEMD_DIR!).filter((n) => n.endsWith(".service"))
    : [];
const status = async () => JSON.parse((await run(["status", "--dir", fx.node, "--json"])).stdout);
const withAnalyze = testNeeding(
  Bun.which("systemd-analyze") ? null : "systemd-analyze is not installed (apt-get install systemd)",
);

describe("start --supervisor systemd --no-start: units for an image (no systemctl at all)", () => {
  test("writes and enables the units, runs no systemctl, syncs and starts nothing; systemd starts them at boot", async () => {
    const before = await fx.head();
    await fx.push({ "app.txt": "new\n" });
    const written = await run(["start", "--dir", fx.node, "--supervisor", "systemd", "--no-start", "--interval", "7"], {
      FAKE_SYSTEMCTL_OFFLINE: "1",
    });
    expect(written.exitCode, written.stderr).toBe(0);
    expect(written.stderr).toContain("nothing started: systemd starts the loops at the next boot");
    expect(calls()).toEqual([]);
    const [unit] = units();
    expect(unit).toMatch(/^protocol-node-[0-9a-f]{10}\.service$/);
    const text = readFileSync(join(env.PROTOCOL_SYSTEMD_DIR!, unit!), "utf8");
    expect(text).toContain(`"git:slave" "--foreground" "--dir" "${fx.node}" "--interval" "7"`);
    // Enabled as `systemctl enable` does it offline: a link in the target's .wants dir, relative (valid inside the image).
    const target = process.getuid?.() === 0 ? "multi-user.target.wants" : "default.target.wants";
    expect(readlinkSync(join(env.PROTOCOL_SYSTEMD_DIR!, target, unit!))).toBe(`../${unit}`);
    // Nothing ran: the working copy is where it was, no loop, no @reboot line.
    expect(await fx.head()).toBe(before);
    const shown = await status();
    expect(shown.slave.running).toBe(false);
    expect(shown.supervisor.kind).toBe("systemd");
    expect(existsSync(fx.env.FAKE_CRONTAB!) ? readFileSync(fx.env.FAKE_CRONTAB!, "utf8") : "").not.toContain(fx.node);
  });

  test("a proxy password in the recorded environment is readable by the owner only: the unit and app.json are 0600", async () => {
    const written = await run(["start", "--dir", fx.node, "--supervisor", "systemd", "--no-start"], {
      FAKE_SYSTEMCTL_OFFLINE: "1",
      HTTPS_PROXY: "http://proxyuser:proxy-secret@127.0.0.1:3128",
    });
    expect(written.exitCode, written.stderr).toBe(0);
    const unit = join(env.PROTOCOL_SYSTEMD_DIR!, units()[0]!);
    expect(readFileSync(unit, "utf8")).toContain("proxy-secret");
    const apps = join(fx.env.PROTOCOL_HOME!, "apps");
    const registration = join(apps, readdirSync(apps)[0]!, "app.json");
    expect(readFileSync(registration, "utf8")).toContain("proxy-secret");
    for (const path of [unit, registration]) expect((statSync(path).mode & 0o777).toString(8)).toBe("600");
  });

  test("--no-start without --supervisor systemd is a usage error, and nothing runs", async () => {
    const refused = await run(["start", "--dir", fx.node, "--no-start"]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("--no-start writes systemd units");
    expect(refused.stderr).toContain("--supervisor systemd");
    expect(units()).toEqual([]);
    expect((await status()).slave.running).toBe(false);
  });
});

describe("start --supervisor systemd (fake systemctl)", () => {
  test("writes the unit, enables and starts it, removes the @reboot line; status and doctor say systemd", async () => {
    expect((await run(["start", "--dir", fx.node])).exitCode).toBe(0);
    expect(readFileSync(fx.env.FAKE_CRONTAB!, "utf8")).toContain(`# app: ${fx.node}\n`);
    const started = await run(["start", "--dir", fx.node, "--supervisor", "systemd", "--interval", "7"]);
    expect(started.exitCode, started.stderr).toBe(0);
    expect(started.stderr).toContain("slave mode supervised by systemd");
    const [unit] = units();
    expect(unit).toMatch(/^protocol-node-[0-9a-f]{10}\.service$/);
    const text = readFileSync(join(env.PROTOCOL_SYSTEMD_DIR!, unit!), "utf8");
    expect(text).toContain("Restart=always");
    expect(text).toContain(`"git:slave" "--foreground" "--dir" "${fx.node}" "--interval" "7"`);
    expect(text).toContain(`Environment="PROTOCOL_HOME=${fx.env.PROTOCOL_HOME}"`);
    expect(calls()).toEqual(expect.arrayContaining([["daemon-reload"], ["enable", unit], ["restart", unit]]));
    // The cron loop was stopped and the one systemd started holds the lock; cron's line is gone.
    expect(readFileSync(fx.env.FAKE_CRONTAB!, "utf8")).not.toContain(`# app: ${fx.node}\n`);
    const shown = await status();
    expect(shown.slave.running).toBe(true);
    expect(shown.supervisor).toEqual({
      kind: "systemd",
      units: [{ name: unit, path: join(env.PROTOCOL_SYSTEMD_DIR!, unit!), active: "active" }],
    });
    expect((await run(["status", "--dir", fx.node])).stdout).toMatch(
      /supervisor\s+systemd: protocol-node-\w+\.service active/,
    );
    const doctor = JSON.parse(
      (
        await run(["doctor", "--dir", fx.node, "--json"], {
          PATH: `${FAKE_SYSTEMD}:${join(REPO_ROOT, "test", "fixtures", "fake-docker")}:${process.env.PATH}`,
        })
      ).stdout,
    );
    expect(doctor.checks.find((c: { name: string }) => c.name === "supervisor")).toMatchObject({ ok: true });
    // Twice is safe: the same unit, not rewritten, started (already running).
    const again = await run(["start", "--dir", fx.node, "--supervisor", "systemd", "--interval", "7"]);
    expect(again.exitCode).toBe(0);
    expect(calls().at(-1)).toEqual(["start", unit]);
  });

  test("git:slave:stop asks systemd to stop the loop; restart starts it again; stop disables and removes the unit", async () => {
    expect((await run(["start", "--dir", fx.node, "--supervisor", "systemd"])).exitCode).toBe(0);
    const [unit] = units();
    const pid = (await status()).slave.pid as number;
    const stopped = await run(["git:slave:stop", "--dir", fx.node]);
    expect(stopped.stderr).toContain(`systemctl stop ${unit}`);
    expect(await gone(pid, 10_000)).toBe(true);
    expect(calls().at(-1)).toEqual(["stop", unit]);
    expect((await run(["restart", fx.node])).exitCode).toBe(0);
    expect(await eventually(async () => (await status()).slave.running, 10_000)).toBe(true);
    expect((await run(["stop", "--dir", fx.node])).exitCode).toBe(0);
    expect(calls()).toContainEqual(["disable", "--now", unit]);
    expect(units()).toEqual([]);
    expect((await status()).slave.running).toBe(false);
  });

  test("without systemd on the machine it refuses and says to use cron (exit 4), changing nothing", async () => {
    const refused = await run(["start", "--dir", fx.node, "--supervisor", "systemd"], { PROTOCOL_SYSTEMD_DIR: "" });
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toContain("systemd does not run this machine");
    expect(refused.stderr).toContain("--supervisor cron");
  });

  test("systemd refusing the unit leaves the node as it was: its loop runs again in the background, the @reboot line stays", async () => {
    expect((await run(["start", "--dir", fx.node])).exitCode).toBe(0);
    const before = (await status()).slave.pid as number;
    const refused = await run(["start", "--dir", fx.node, "--supervisor", "systemd"], {
      FAKE_SYSTEMCTL_FAIL: "enable",
    });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain("Unit file is masked");
    expect(refused.stderr).toContain("slave mode keeps running in the background, as before");
    const after = await status();
    expect(after.slave.running).toBe(true);
    expect(after.slave.pid).not.toBe(before);
    expect(after.supervisor.kind).toBe("cron");
    expect(units()).toEqual([]);
    expect(readFileSync(fx.env.FAKE_CRONTAB!, "utf8")).toContain(`# app: ${fx.node}\n`);
  });

  test("where systemd does not run, a failing systemctl says so and how to write the units for an image, not journalctl", async () => {
    const refused = await run(["start", "--dir", fx.node, "--supervisor", "systemd"], { FAKE_SYSTEMCTL_OFFLINE: "1" });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain("System has not been booted with systemd");
    const hint = refused.stderr.split("\n").find((line) => line.startsWith("hint:")) ?? "";
    expect(hint).toContain("systemd does not run this machine");
    expect(hint).toContain("protocol start --supervisor systemd --no-start");
    expect(hint).not.toContain("journalctl");
  });

  withAnalyze("the unit it writes passes systemd-analyze verify", async () => {
    expect((await run(["start", "--dir", fx.node, "--supervisor", "systemd"])).exitCode).toBe(0);
    const path = join(env.PROTOCOL_SYSTEMD_DIR!, units()[0]!);
    const verify = await sh(["systemd-analyze", "verify", path]);
    expect(verify.exitCode, verify.stderr).toBe(0);
    expect(verify.stderr).not.toContain(units()[0]!);
  });
});
