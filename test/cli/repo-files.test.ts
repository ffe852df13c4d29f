/**
 * Issue 29 (4): every file protocol reads from the app or the config repo is a regular file under a
 * cap, or refused by name before the working copy moves. A hook with `"env": "app"` and a .env
 * linked to /dev/zero used to read it whole: gigabytes of RSS, ENOMEM, after the move.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliArgv, Fixture, git, sh } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

/** Peak RSS of a process, as /usr/bin/time -v reports it (the process and the children it waited for). */
const PEAK_RSS_BOUND_MB = 200;

/**
 * `git:pull` under /usr/bin/time -v: its run and its peak RSS in MB. The report goes to a file of
 * its own: protocol leaves the stderr it shares with time non-blocking, and time's writes to it fail.
 */
async function pullMeasured(): Promise<{ exitCode: number; stderr: string; peakMb: number }> {
  const report = join(fx.root, "time.txt");
  const run = await sh(["/usr/bin/time", "-v", "-o", report, ...cliArgv(), "git:pull", "--dir", fx.node], {
    cwd: fx.root,
    env: fx.env,
  });
  const measured = readFileSync(report, "utf8");
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(measured)?.[1]);
  expect(Number.isFinite(kb), measured).toBe(true);
  return { exitCode: run.exitCode, stderr: run.stderr, peakMb: kb / 1024 };
}

const hookReadingEnv = (marker: string) =>
  JSON.stringify({ deploy: { hooks: { afterUp: [{ run: ["touch", marker], env: "app" }] } } });

describe("a .env protocol must not read whole", () => {
  test("a commit that links .env to /dev/zero, with a hook env: app: refused by name before the move, peak RSS bounded", async () => {
    const marker = join(fx.root, "hook-ran");
    const before = await fx.head();
    symlinkSync("/dev/zero", join(fx.seed, ".env"));
    const pushed = await fx.push({ "protocol.json": hookReadingEnv(marker) }, "env from /dev/zero");
    expect(await git(fx.seed, "ls-tree", "HEAD", ".env")).toStartWith("120000");

    const pull = await pullMeasured();
    expect(pull.exitCode).not.toBe(0);
    expect(pull.stderr).toContain(".env at");
    expect(pull.stderr).toContain("/dev/zero");
    expect(pull.stderr).toContain("protocol reads only regular files");
    expect(pull.peakMb).toBeLessThan(PEAK_RSS_BOUND_MB);
    expect(await fx.head()).toBe(before);
    expect(await fx.head()).not.toBe(pushed);
    expect(await Bun.file(marker).exists()).toBe(false);
  }, 30_000);

  test("a node-local .env linked to /dev/zero, and a commit whose hook takes env: app: refused before the move, bounded", async () => {
    const marker = join(fx.root, "hook-ran");
    const before = await fx.head();
    symlinkSync("/dev/zero", join(fx.node, ".env"));
    await fx.push({ "protocol.json": hookReadingEnv(marker) }, "hook with the app's env");

    const pull = await pullMeasured();
    expect(pull.exitCode).not.toBe(0);
    expect(pull.stderr).toContain(`${join(fx.node, ".env")} (a link to /dev/zero) is a device`);
    expect(pull.peakMb).toBeLessThan(PEAK_RSS_BOUND_MB);
    expect(await fx.head()).toBe(before);
    expect(await Bun.file(marker).exists()).toBe(false);
  }, 30_000);

  test("a .env over the cap is refused with both sizes before the move; made small, the same commit deploys and its hook runs", async () => {
    const marker = join(fx.root, "hook-ran");
    const before = await fx.head();
    writeFileSync(join(fx.node, ".env"), `BIG=${"x".repeat(2 * 1024 * 1024)}\n`);
    const pushed = await fx.push({ "protocol.json": hookReadingEnv(marker) }, "hook with the app's env");

    const refused = await fx.cli(["git:pull", "--dir", fx.node]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain(`${join(fx.node, ".env")} is 2 MB; it may be at most 1 MB`);
    expect(await fx.head()).toBe(before);

    writeFileSync(join(fx.node, ".env"), "SMALL=1\n");
    const pulled = await fx.cli(["git:pull", "--dir", fx.node]);
    expect(pulled.exitCode, pulled.stderr).toBe(0);
    expect(await fx.head()).toBe(pushed);
    expect(await Bun.file(marker).exists()).toBe(true);
  }, 30_000);

  test("an incoming compose file over the cap is refused by name before the move (fake docker)", async () => {
    const before = await fx.head();
    const padding = `# ${"x".repeat(2 * 1024 * 1024)}\n`;
    await fx.push({ "docker-compose.yml": `services:\n  app:\n    image: busybox\n${padding}` }, "huge compose file");
    const pull = await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true });
    expect(pull.exitCode).not.toBe(0);
    expect(pull.stderr).toMatch(/docker-compose\.yml at [0-9a-f]{8} is 2 MB; it may be at most 1 MB/);
    expect(await fx.head()).toBe(before);
  }, 30_000);
});
