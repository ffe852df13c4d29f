/**
 * Issue 12: status and doctor tell it straight — a killed loop is "crashed", not "stopped"; a
 * deploy under way shows as deploying; the remote commit is the one last seen even when the sync
 * then failed; doctor checks every registered loop.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliArgv, eventually, FAKE_DOCKER_DIR, Fixture } from "../helpers/fixture.ts";
import { gone } from "../helpers/processes.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

const status = async () => JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);

describe("a killed loop", () => {
  test("is crashed in status and a failing check in doctor; a stopped one is stopped", async () => {
    expect((await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"])).exitCode).toBe(0);
    const { pid } = (await status()).slave;
    process.kill(pid, "SIGKILL");
    expect(await gone(pid)).toBe(true);
    expect((await status()).slave).toMatchObject({ running: false, crashed: true, pid });
    const human = await fx.cli(["status", "--dir", fx.node]);
    expect(human.stdout).toMatch(new RegExp(`slave\\s+crashed \\(pid ${pid} is gone`));
    const doctor = await fx.cli(["doctor", "--dir", fx.node, "--json"], {
      fakeDocker: true,
      env: { FAKE_DOCKER_ROOT: fx.root },
    });
    expect(doctor.exitCode).toBe(4);
    const check = JSON.parse(doctor.stdout).checks.find((c: { name: string }) => c.name.startsWith("slave mode"));
    expect(check).toMatchObject({ ok: false });
    expect(check.detail).toContain(`crashed: pid ${pid} is gone`);
    expect(check.fix).toContain("protocol start --dir");

    expect((await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"])).exitCode).toBe(0);
    expect((await fx.cli(["stop", "--dir", fx.node])).exitCode).toBe(0);
    expect((await status()).slave).toEqual({ running: false, pid: null, since: null, crashed: false });
  });
});

describe("the supervisor line reads the crontab (issue 24)", () => {
  const supervisorLine = async (env: Record<string, string> = {}) => {
    const run = await fx.cli(["status", "--dir", fx.node], { env });
    expect(run.exitCode, run.stderr).toBe(0);
    return run.stdout.split("\n").find((line) => line.startsWith("supervisor")) ?? "";
  };

  test("says the @reboot line is there after start, and that it is missing after stop + restart <dir>", async () => {
    expect((await fx.cli(["start", "--dir", fx.node, "--interval", "1"])).exitCode).toBe(0);
    expect(await supervisorLine()).toContain("@reboot protocol restart in the crontab");
    expect((await status()).supervisor).toEqual({ kind: "cron", units: [], reboot: { state: "present" } });
    expect((await fx.cli(["stop", "--dir", fx.node])).exitCode).toBe(0);
    expect((await fx.cli(["restart", fx.node])).exitCode).toBe(0);
    const line = await supervisorLine();
    expect(line).toContain("no @reboot line: the node will not come back after a reboot");
    expect(line).toContain("protocol cron:add");
    expect(line).not.toContain("@reboot protocol restart");
    expect((await status()).supervisor.reboot).toEqual({ state: "missing" });
    expect((await fx.cli(["stop", "--dir", fx.node])).exitCode).toBe(0);
  });

  test("says there is no crontab program when there is none", async () => {
    // A PATH with git and bun, and no crontab: a fresh machine without cron.
    const bin = join(fx.root, "no-cron-bin");
    mkdirSync(bin);
    symlinkSync(Bun.which("git")!, join(bin, "git"));
    symlinkSync(process.execPath, join(bin, "bun"));
    const line = await supervisorLine({ PATH: bin });
    expect(line).toContain("no crontab program: the node will not come back after a reboot");
    expect(line).not.toContain("@reboot protocol restart");
  });
});

/** A git:pull of a new compose commit in the background, whose (fake) `compose up` takes `ms`. */
async function pullWithSlowUp(ms: number) {
  await fx.push({ "docker-compose.yml": "services: {}\n" });
  const env = {
    ...process.env,
    ...fx.env,
    PATH: `${FAKE_DOCKER_DIR}:${process.env.PATH}`,
    FAKE_DOCKER_UP_SLEEP_MS: String(ms),
  };
  return Bun.spawn([...cliArgv(), "git:pull", "--dir", fx.node], { env, stderr: "ignore" });
}

describe("a deploy under way", () => {
  test("shows as deploying A → B since T while compose runs, and not after (slow fake up)", async () => {
    const pull = await pullWithSlowUp(3000);
    // Recorded from the deploy's first step (the images' pull, before the move): while compose runs,
    // the working copy is on it.
    expect(await eventually(async () => (await status()).deploying !== null, 10_000, 50)).toBe(true);
    expect(await eventually(async () => (await status()).deploying?.to === (await fx.head()), 10_000, 50)).toBe(true);
    const human = await fx.cli(["status", "--dir", fx.node]);
    expect(human.stdout).toMatch(/deploying\s+[0-9a-f]{8} → [0-9a-f]{8} since /);
    expect(await pull.exited).toBe(0);
    expect(await status()).toMatchObject({ deploying: null, interruptedDeploy: null });
  });

  test("one cut short by kill -9 shows as interrupted, and the next poll deploys again", async () => {
    const pull = await pullWithSlowUp(10000);
    expect(await eventually(async () => (await status()).deploying !== null, 10_000, 50)).toBe(true);
    pull.kill("SIGKILL");
    await pull.exited;
    expect(await eventually(async () => (await status()).interruptedDeploy !== null)).toBe(true);
    expect((await fx.cli(["status", "--dir", fx.node])).stdout).toContain("was cut short; the next poll deploys again");
    const again = await fx.cli(["git:pull", "--dir", fx.node, "--json"], { fakeDocker: true });
    expect(JSON.parse(again.stdout).result).toBe("deployed");
    expect(await status()).toMatchObject({ deploying: null, interruptedDeploy: null });
  }, 30_000);

  test("one a refusal stopped before the move shows as stopped, with why: not as cut short", async () => {
    expect((await fx.cli(["git:pull", "--dir", fx.node])).exitCode).toBe(0);
    await fx.push({ "protocol.json": JSON.stringify({ git: { interval: 0 } }) });
    expect((await fx.cli(["git:pull", "--dir", fx.node])).exitCode).not.toBe(0);
    const human = (await fx.cli(["status", "--dir", fx.node])).stdout;
    expect(human).toContain("stopped: protocol.json at");
    expect(human).toContain("the next poll tries again");
    expect(human).not.toContain("was cut short");
  });
});

describe("the remote commit", () => {
  test("is the one last seen, even when the sync failed after seeing it", async () => {
    expect((await fx.cli(["git:pull", "--dir", fx.node])).exitCode).toBe(0);
    const pushed = await fx.push({ "docker-compose.yml": "services: {}\n" });
    const failed = await fx.cli(["git:pull", "--dir", fx.node], {
      fakeDocker: true,
      env: { FAKE_DOCKER_FAIL: "pull" },
    });
    expect(failed.exitCode).not.toBe(0);
    const now = await status();
    expect(now.remoteCommit).toBe(pushed);
    expect(now.localCommit).not.toBe(pushed);
  });
});

describe("an app dir that is not a working copy yet", () => {
  test("status says what it knows, exit 0: no move journal, no pass to read from a .git that is not there", async () => {
    const dir = join(fx.root, "not-cloned");
    mkdirSync(dir);
    writeFileSync(join(dir, "protocol.json"), "{}\n");
    const run = await fx.cli(["status", "--dir", dir, "--json"]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ localCommit: null, move: null, pass: null });
  });
});
