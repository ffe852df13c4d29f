import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { Fixture } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

/** A PATH that has bun and git, and none of the other programs protocol might look for. */
function pathWith(...programs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "protocol-path-"));
  for (const program of programs) symlinkSync(Bun.which(program)!, join(dir, program));
  symlinkSync(process.execPath, join(dir, "bun"));
  return dir;
}

const errorLines = (stderr: string) =>
  stderr.split("\n").filter((line) => line.startsWith("error:") || line.startsWith("hint:"));

describe("errors are one line, a hint and an exit code", () => {
  test("an invalid protocol.json names the key and exits 3", async () => {
    writeFileSync(join(fx.node, "protocol.json"), JSON.stringify({ git: { interval: "often" } }));
    // (status still prints what it knows first: test/cli/hostile-input.test.ts)
    const run = await fx.cli(["git:pull", "--dir", fx.node]);
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toBe("");
    const [error, hint] = errorLines(run.stderr);
    expect(error).toContain("git.interval");
    expect(hint).toStartWith("hint:");
  });

  test("protocol.json that is not JSON exits 3 and says so", async () => {
    writeFileSync(join(fx.node, "protocol.json"), "{ name: ");
    const run = await fx.cli(["git:pull", "--dir", fx.node]);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("not valid JSON");
  });

  test("a password in protocol.json is read but warned about", async () => {
    writeFileSync(join(fx.node, "protocol.json"), JSON.stringify({ git: { username: "deploy", password: "hunter2" } }));
    const run = await fx.cli(["status", "--dir", fx.node]);
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain("git.password");
    expect(run.stderr).not.toContain("hunter2");
  });

  test("a --dir that does not exist exits 4 with a hint", async () => {
    const run = await fx.cli(["status", "--dir", join(fx.root, "nope")]);
    expect(run.exitCode).toBe(4);
    expect(errorLines(run.stderr)).toHaveLength(2);
  });

  test("outside any app, commands exit 4 and say to pass --dir", async () => {
    const empty = mkdtempSync(join(tmpdir(), "protocol-empty-"));
    const run = await fx.cli(["status"], { cwd: empty });
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("--dir");
  });

  test("status --dir <a dir that is no app> answers as status inside it does: exit 4, no app found, no table", async () => {
    const empty = mkdtempSync(join(tmpdir(), "protocol-empty-"));
    const inside = await fx.cli(["status"], { cwd: empty });
    const given = await fx.cli(["status", "--dir", empty]);
    for (const run of [inside, given]) {
      expect(run.exitCode).toBe(4);
      expect(run.stdout).toBe("");
      expect(errorLines(run.stderr)[0]).toStartWith(`error: no app found: neither protocol.json nor .git in ${empty}`);
    }
    expect((await fx.cli(["status", "--dir", empty, "--json"])).stdout).toBe("");
  });

  test("a dir that is not a git working copy refuses git:pull with exit 4", async () => {
    const plain = join(fx.root, "plain");
    mkdirSync(plain);
    writeFileSync(join(plain, "protocol.json"), "{}");
    const run = await fx.cli(["git:pull", "--dir", plain]);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("not a git working copy");
  });

  test("flags may come before the command", async () => {
    const run = await fx.cli(["--dir", fx.node, "status", "--json"]);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).dir).toBe(fx.node);
  });

  test("an unknown command and a bad flag value exit 2", async () => {
    expect((await fx.cli(["nonsense"])).exitCode).toBe(2);
    const bad = await fx.cli(["git:slave", "--dir", fx.node, "--interval", "0"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--interval");
    const policy = await fx.cli(["git:pull", "--dir", fx.node, "--on-dirty=delete"]);
    expect(policy.exitCode).toBe(2);
    expect(policy.stderr).toContain("refuse, stash");
  });

  test("git:pull on a dirty working copy exits 4 and changes nothing", async () => {
    writeFileSync(join(fx.node, "README.md"), "local edit\n");
    await fx.push({ "app.txt": "v2\n" });
    const before = await fx.head();
    const run = await fx.cli(["git:pull", "--dir", fx.node]);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("--on-dirty=stash");
    expect(await fx.head()).toBe(before);
  });

  test("git:pull against an unreachable remote exits 5", async () => {
    await Bun.$`mv ${fx.remote} ${fx.remote}.gone`.quiet();
    const run = await fx.cli(["git:pull", "--dir", fx.node]);
    expect(run.exitCode).toBe(5);
    expect(run.stderr).toContain("unreachable");
  });

  test("git missing from PATH exits 7 and says how to install it", async () => {
    const run = await fx.cli(["git:pull", "--dir", fx.node], { env: { PATH: pathWith() } });
    expect(run.exitCode).toBe(7);
    expect(run.stderr).toContain("git is not installed");
    expect(run.stderr).toContain("apt-get install git");
  });

  test("cron:add without crontab on PATH exits 7 and says how to install cron", async () => {
    const run = await fx.cli(["cron:add", "--dir", fx.node], { env: { PATH: pathWith("git") } });
    expect(run.exitCode).toBe(7);
    expect(run.stderr).toContain("install cron");
  });

  test("git:pull while another process holds the lock exits 8 naming the holder (--wait 0)", async () => {
    const status = JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);
    mkdirSync(status.stateDir, { recursive: true });
    const holder = { pid: process.pid, host: hostname(), command: "git:pull", since: new Date().toISOString() };
    writeFileSync(join(status.stateDir, "sync.lock"), JSON.stringify(holder));
    const run = await fx.cli(["git:pull", "--dir", fx.node, "--wait", "0"]);
    expect(run.exitCode).toBe(8);
    expect(run.stderr).toContain(`pid ${process.pid}`);
    const shown = JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);
    expect(shown.lock).toMatchObject({ pid: process.pid, command: "git:pull" });
  });
});
