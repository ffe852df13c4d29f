import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, Fixture } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

async function status(): Promise<any> {
  const run = await fx.cli(["status", "--dir", fx.node, "--json"]);
  expect(run.exitCode).toBe(0);
  return JSON.parse(run.stdout);
}

const crontab = () => {
  try {
    return readFileSync(fx.env.FAKE_CRONTAB!, "utf8");
  } catch {
    return "";
  }
};

describe("the loop follows protocol.json", () => {
  test("re-reads protocol.json after a deploy: a new git.remotename takes effect on the next poll", async () => {
    expect((await fx.cli(["git:slave", "--dir", fx.node, "--interval", "1"])).exitCode).toBe(0);
    const pushed = await fx.push({ "protocol.json": JSON.stringify({ git: { remotename: "upstream" } }) });
    expect(await eventually(async () => (await fx.head()) === pushed, 10_000)).toBe(true);
    // The node has no remote called upstream: the poll after the deploy asks for it, so it was read.
    expect(await eventually(async () => ((await status()).lastSync?.error ?? "").includes("upstream"), 10_000)).toBe(
      true,
    );
  });
});

describe("start / status / stop", () => {
  test("start syncs, runs the loop in the background, and the node follows a push within a few intervals", async () => {
    const started = await fx.cli(["start", "--dir", fx.node, "--interval", "1"]);
    expect(started.exitCode).toBe(0);
    const first = await status();
    expect(first.slave.running).toBe(true);
    expect(typeof first.slave.pid).toBe("number");
    expect(["deployed", "up-to-date"]).toContain(first.lastSync.result);
    const deploys = JSON.parse((await fx.cli(["deploy:log", "--dir", fx.node, "--json"])).stdout);
    expect(deploys).toHaveLength(1);
    expect(deploys[0]).toMatchObject({ from: null, to: await fx.head(), result: "deployed" });

    const pushed = await fx.push({ "app.txt": "v2\n" });
    expect(await eventually(async () => (await fx.head()) === pushed, 10_000)).toBe(true);
    const after = await eventually(async () => (await status()).lastSync.result === "up-to-date", 5_000);
    expect(after).toBe(true);
    const json = await status();
    expect(json).toMatchObject({ dir: fx.node, branch: "main", localCommit: pushed, remoteCommit: pushed, lock: null });
    expect(json.lastSync).toHaveProperty("at");
    expect(json.lastSync).toHaveProperty("error", null);
    expect(json.config).toMatchObject({ env: null, dir: null, branch: null, slave: { running: false } });

    const stopped = await fx.cli(["stop", "--dir", fx.node]);
    expect(stopped.exitCode).toBe(0);
    expect((await status()).slave).toEqual({ running: false, pid: null, since: null, crashed: false });
    expect(crontab()).not.toContain(fx.node);
  });

  test("start twice keeps one loop and the same crontab", async () => {
    const one = await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--json"]);
    const tab = crontab();
    const two = await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--json"]);
    expect(one.exitCode).toBe(0);
    expect(two.exitCode).toBe(0);
    const [a, b] = [JSON.parse(one.stdout), JSON.parse(two.stdout)];
    expect(b.slave).toEqual({ pid: a.slave.pid, alreadyRunning: true });
    expect(crontab()).toBe(tab);
    expect(tab).toContain("@reboot");
    expect(tab).toContain(`restart '${fx.node}'`);
  });

  test("after kill -9 of the loop, start recovers its lock and runs a new loop", async () => {
    await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"]);
    const { pid } = (await status()).slave;
    process.kill(pid, "SIGKILL");
    expect(await eventually(async () => !(await status()).slave.running, 10_000)).toBe(true);
    const again = await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"]);
    expect(again.exitCode).toBe(0);
    const now = await status();
    expect(now.slave.running).toBe(true);
    expect(now.slave.pid).not.toBe(pid);
    const pushed = await fx.push({ "app.txt": "after crash\n" });
    expect(await eventually(async () => (await fx.head()) === pushed, 10_000)).toBe(true);
  });

  test("stop lets the loop finish and release its locks", async () => {
    await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"]);
    const stopped = await fx.cli(["stop", "--dir", fx.node, "--json"]);
    expect(JSON.parse(stopped.stdout).slave.forced).toBe(false);
    const log = readFileSync(
      join(fx.env.PROTOCOL_HOME!, "apps", (await status()).stateDir.split("/").pop(), "slave.log"),
      "utf8",
    );
    expect(log).toContain("slave mode stopped");
    expect((await status()).lock).toBeNull();
  });

  test("restart with no dir starts every node registered here, and skips stopped ones", async () => {
    await fx.cli(["start", "--dir", fx.node, "--interval", "1"]);
    await fx.cli(["git:slave:stop", "--dir", fx.node]); // what a reboot does to the loop
    expect((await status()).slave.running).toBe(false);
    const restarted = await fx.cli(["restart"], { cwd: "/" });
    expect(restarted.exitCode).toBe(0);
    expect((await status()).slave.running).toBe(true);
    await fx.cli(["stop", "--dir", fx.node]);
    const again = await fx.cli(["restart", "--json"], { cwd: "/" });
    expect(JSON.parse(again.stdout)).toEqual([]);
    expect((await status()).slave.running).toBe(false);
  });

  test("restart restarts a running loop (so it runs the binary now in place) and says so", async () => {
    expect((await fx.cli(["start", "--dir", fx.node, "--interval", "1"])).exitCode).toBe(0);
    const before = (await status()).slave.pid;
    const restarted = await fx.cli(["restart"], { cwd: "/" });
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    expect(restarted.stderr).toContain("slave mode restarted on the binary in place");
    const after = (await status()).slave;
    expect(after.running).toBe(true);
    expect(after.pid).not.toBe(before);
  });

  test("restart with dirs given starts exactly those, from any directory", async () => {
    const run = await fx.cli(["restart", fx.node], { cwd: "/" });
    expect(run.exitCode).toBe(0);
    expect((await status()).slave.running).toBe(true);
  });

  test("the loop keeps running while the remote is gone and follows it again when it is back", async () => {
    await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"]);
    const away = `${fx.remote}.away`;
    await Bun.$`mv ${fx.remote} ${away}`.quiet();
    expect(await eventually(async () => (await status()).lastSync.result === "unreachable", 10_000)).toBe(true);
    await Bun.$`mv ${away} ${fx.remote}`.quiet();
    const pushed = await fx.push({ "app.txt": "back\n" });
    expect(await eventually(async () => (await fx.head()) === pushed, 20_000)).toBe(true);
    expect((await status()).slave.running).toBe(true);
  });

  test("a dirty working copy is reported by status and left alone by the loop", async () => {
    await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"]);
    const before = await fx.head();
    writeFileSync(join(fx.node, "README.md"), "edited\n");
    await fx.push({ "app.txt": "v2\n" });
    expect(await eventually(async () => (await status()).lastSync.result === "dirty", 10_000)).toBe(true);
    expect(await fx.head()).toBe(before);
    expect(readFileSync(join(fx.node, "README.md"), "utf8")).toBe("edited\n");
    const human = await fx.cli(["status", "--dir", fx.node]);
    expect(human.stdout).toContain("dirty");
  });
});
