/**
 * Issue 10, "one loop per working copy, whatever the state dir": a garbage lock file, a second
 * PROTOCOL_HOME, an old lock naming a pid that is now another program, a loop that lost its lock.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { eventually, Fixture } from "../helpers/fixture.ts";

let fx: Fixture;
const others: string[] = [];
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => {
  for (const home of others.splice(0))
    await fx.cli(["git:slave:stop", "--dir", fx.node], { env: { PROTOCOL_HOME: home } });
  await fx[Symbol.asyncDispose]();
});

const alive = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/status`, "utf8").includes("State:\tZ");
  } catch {
    return false;
  }
};

async function startLoop(env: Record<string, string> = {}): Promise<{ pid: number; alreadyRunning: boolean }> {
  const run = await fx.cli(["git:slave", "--dir", fx.node, "--interval", "1", "--json"], { env });
  expect(run.exitCode).toBe(0);
  return JSON.parse(run.stdout);
}

async function slaveLock(): Promise<string> {
  const status = JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);
  return join(status.stateDir, "slave.lock");
}

describe("one loop per working copy", () => {
  test("garbage in the loop's lock file: start finds the running loop instead of launching a second, the loop writes its lock again, status and stop see it", async () => {
    const first = await startLoop();
    writeFileSync(await slaveLock(), "\u0000garbage{");
    const again = await startLoop();
    expect(again).toEqual({ ...again, pid: first.pid, alreadyRunning: true });
    const status = JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);
    expect(status.slave).toMatchObject({ running: true, pid: first.pid });
    // The loop writes its lock again on its next poll, and keeps running.
    expect(
      await eventually(async () => readFileSync(await slaveLock(), "utf8").includes(`"pid":${first.pid}`), 10_000),
    ).toBe(true);
    expect(alive(first.pid)).toBe(true);
    expect((await startLoop()).pid).toBe(first.pid);
    expect((await fx.cli(["git:slave:stop", "--dir", fx.node])).exitCode).toBe(0);
    expect(await eventually(() => !alive(first.pid), 10_000)).toBe(true);
  });

  test("a second state dir cannot run a second loop on the same checkout", async () => {
    const first = await startLoop();
    const home = join(fx.root, "other-state");
    others.push(home);
    const second = await startLoop({ PROTOCOL_HOME: home });
    expect(second).toMatchObject({ pid: first.pid, alreadyRunning: true });
    // Run in the foreground, a second loop refuses at once: the working copy's own lock is held.
    const direct = await fx.cli(["git:slave", "--foreground", "--dir", fx.node, "--interval", "1"], {
      env: { PROTOCOL_HOME: home },
    });
    expect(direct.exitCode).toBe(8);
    expect(direct.stderr).toContain(`locked by pid ${first.pid} (git:slave)`);
    expect(alive(first.pid)).toBe(true);
  });

  test("an old lock whose pid is now another program is never signalled, and counts as no loop", async () => {
    const stranger = Bun.spawn(["sleep", "60"]);
    try {
      const lock = join(fx.env.PROTOCOL_HOME!, "apps");
      await fx.cli(["git:pull", "--dir", fx.node]);
      const path = await slaveLock();
      expect(path.startsWith(lock)).toBe(true);
      // The format before boot ids and start times: only a pid.
      writeFileSync(
        path,
        JSON.stringify({ pid: stranger.pid, host: hostname(), command: "git:slave", since: "2026-01-01T00:00:00Z" }),
      );
      const status = JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);
      expect(status.slave.running).toBe(false);
      expect((await fx.cli(["git:slave:stop", "--dir", fx.node])).exitCode).toBe(0);
      expect(alive(stranger.pid)).toBe(true);
    } finally {
      stranger.kill();
    }
  });

  test("a loop that finds its lock taken by someone else stops instead of running beside them", async () => {
    const first = await startLoop();
    const stranger = Bun.spawn(["sleep", "60"]);
    try {
      expect(existsSync(join(fx.node, ".git", "protocol", "git-slave.lock"))).toBe(true);
      writeFileSync(
        join(fx.node, ".git", "protocol", "git-slave.lock"),
        JSON.stringify({ pid: stranger.pid, host: hostname(), command: "git:slave", since: new Date().toISOString() }),
      );
      expect(await eventually(() => !alive(first.pid), 10_000)).toBe(true);
      const log = readFileSync(join((await slaveLock()).replace(/slave\.lock$/, ""), "slave.log"), "utf8");
      expect(log).toContain("another loop took it; stopping this one");
    } finally {
      stranger.kill();
    }
  });
});
