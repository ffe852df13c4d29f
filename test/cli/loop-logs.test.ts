/**
 * Issue 12: the loop's log says what happened (one line per change of outcome, a repeated failure
 * not on every poll), `protocol logs` reads it, and SIGHUP (`protocol sync`) makes the loop poll now.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliArgv, eventually, Fixture, git } from "../helpers/fixture.ts";
import { startGitHttp } from "../helpers/git-http.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

async function stateDir(): Promise<string> {
  return JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout).stateDir;
}
const slaveLog = async () => readFileSync(join(await stateDir(), "slave.log"), "utf8");
const count = (text: string, needle: string) => text.split("\n").filter((line) => line.includes(needle)).length;

describe("slave.log tells what happened", () => {
  test("a deploy, a refusal said once however many polls see it, and the recovery, each one line", async () => {
    // The remote over HTTP, so the loop's polls can be counted.
    await using server = startGitHttp(fx.root);
    await git(fx.node, "remote", "set-url", "origin", server.url("remote.git"));
    expect((await fx.cli(["git:slave", "--dir", fx.node, "--interval", "1"])).exitCode).toBe(0);
    // The loop's first poll deploys the commit the clone has (nothing was deployed before).
    expect(await eventually(async () => count(await slaveLog(), "success deployed") === 1)).toBe(true);
    const first = await fx.push({ "a.txt": "1\n" });
    expect(await eventually(async () => (await fx.head()) === first)).toBe(true);
    expect(await eventually(async () => count(await slaveLog(), "success deployed") === 2)).toBe(true);
    expect(await slaveLog()).toMatch(/success deployed [0-9a-f]{8} → [0-9a-f]{8} in \d+\.\ds/);
    // One clock, one definition (from the start of the pass to healthy): the line and deploy:log agree.
    const said = [...(await slaveLog()).matchAll(/success deployed [0-9a-f]{8} → ([0-9a-f]{8}) in (\d+\.\d)s/g)];
    const recorded = JSON.parse((await fx.cli(["deploy:log", "--dir", fx.node, "--json"])).stdout);
    const record = recorded.find((d: { to: string }) => d.to.startsWith(said.at(-1)![1]!));
    expect(said.at(-1)![2]).toBe((record.durationMs / 1000).toFixed(1));

    writeFileSync(join(fx.node, "README.md"), "edited on the server\n");
    const second = await fx.push({ "b.txt": "2\n" });
    expect(await eventually(async () => (await slaveLog()).includes("sync dirty"))).toBe(true);
    // Three more polls see the same refusal: it is not said again.
    const polls = server.refsRequests("remote.git");
    expect(await eventually(() => server.refsRequests("remote.git") >= polls + 3, 30_000)).toBe(true);
    expect(count(await slaveLog(), "sync dirty")).toBe(1);
    expect(await slaveLog()).toContain("uncommitted");

    writeFileSync(join(fx.node, "README.md"), "hello\n");
    expect(await eventually(async () => (await fx.head()) === second)).toBe(true);
    expect(await eventually(async () => count(await slaveLog(), "success deployed") === 3)).toBe(true);
    expect(count(await slaveLog(), "sync dirty")).toBe(1);
  }, 60_000);
});

describe("protocol logs", () => {
  test("prints the last lines of slave.log (-n), and of the config slave's with --config", async () => {
    const dir = join(fx.env.PROTOCOL_HOME!, "apps");
    await fx.cli(["git:pull", "--dir", fx.node]);
    const state = await stateDir();
    expect(state.startsWith(dir)).toBe(true);
    writeFileSync(join(state, "slave.log.1"), "old 1\nold 2\n");
    writeFileSync(join(state, "slave.log"), "line 1\nline 2\nline 3\n");
    writeFileSync(join(state, "config-slave.log"), "config line\n");
    expect((await fx.cli(["logs", "--dir", fx.node, "-n", "2"])).stdout).toBe("line 2\nline 3\n");
    expect((await fx.cli(["logs", "--dir", fx.node, "-n", "4"])).stdout).toBe("old 2\nline 1\nline 2\nline 3\n");
    expect((await fx.cli(["logs", "--dir", fx.node, "--config"])).stdout).toBe("config line\n");
    const bad = await fx.cli(["logs", "--dir", fx.node, "-n", "-3"]);
    expect(bad.exitCode).toBe(2);
  });

  test("-f prints what is appended, across a rotation, until Ctrl-C", async () => {
    await fx.cli(["git:pull", "--dir", fx.node]);
    const log = join(await stateDir(), "slave.log");
    writeFileSync(log, "before\n");
    const child = Bun.spawn([...cliArgv(), "logs", "-f", "--dir", fx.node], {
      env: { ...process.env, ...fx.env },
      stdout: "pipe",
    });
    const decoder = new TextDecoder();
    let seen = "";
    const reader = (async () => {
      for await (const chunk of child.stdout) seen += decoder.decode(chunk);
    })();
    expect(await eventually(() => seen.includes("before"))).toBe(true);
    writeFileSync(log, "before\nappended\n");
    expect(await eventually(() => seen.includes("appended"))).toBe(true);
    writeFileSync(log, "rotated\n");
    expect(await eventually(() => seen.includes("rotated"))).toBe(true);
    child.kill("SIGINT");
    expect(await child.exited).toBe(0);
    await reader;
  });
});

describe("protocol sync (SIGHUP) wakes the loop", () => {
  test("a loop at --interval 60 takes a new commit at once", async () => {
    expect((await fx.cli(["git:slave", "--dir", fx.node, "--interval", "60"])).exitCode).toBe(0);
    expect(await eventually(async () => (await slaveLog()).includes("success deployed"))).toBe(true);
    const pushed = await fx.push({ "c.txt": "3\n" });
    const woke = await fx.cli(["sync", "--dir", fx.node]);
    expect(woke.exitCode, woke.stderr).toBe(0);
    expect(woke.stderr).toContain("polls now");
    // Without the wake the next poll is 48-72 s away: 10 s is plenty for one that starts now.
    expect(await eventually(async () => (await fx.head()) === pushed, 10_000)).toBe(true);
    expect(await slaveLog()).toContain("SIGHUP received: polling now");
    // The loop lives on after it.
    const status = JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);
    expect(status.slave.running).toBe(true);
  }, 30_000);

  test("with no loop running, sync says so and exits 4", async () => {
    const run = await fx.cli(["sync", "--dir", fx.node]);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("slave mode is not running");
  });
});
