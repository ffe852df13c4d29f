/**
 * Issue 29, "a commit larger than the free space keeps the disk full": the node's checkout on a
 * small tmpfs (mounted for the test, so it needs root; CI runs as root), a remote commit with a
 * random file bigger than it. Real git; the file system fills up for real.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Fixture, git, sh } from "../helpers/fixture.ts";
import { startGitDaemon, startProxy } from "../helpers/git-daemon.ts";
import { describeNeeding } from "../helpers/needs.ts";
import { mountTmpfs, TMPFS_NEEDS, unmountTmpfs } from "../helpers/tmpfs.ts";

const describeAsRoot = describeNeeding(TMPFS_NEEDS);

let fx: Fixture;
beforeEach(async () => {
  fx = await Fixture.create();
});
afterEach(async () => {
  await unmountTmpfs();
  await fx[Symbol.asyncDispose]();
});

const tmpfs = (name: string, size: string) => mountTmpfs(join(fx.root, name), size);

const MB = 1024 * 1024;

/** Free bytes on the file system holding `dir`, as protocol counts them (statfs's bavail). */
const free = (dir: string) => {
  const fs = statfsSync(dir);
  return Number(fs.bavail) * Number(fs.bsize);
};

/** The temp files of fetches left in a repo's object dirs. */
const fetchTemps = (node: string) =>
  [join(node, ".git", "objects"), join(node, ".git", "objects", "pack")].flatMap((dir) =>
    readdirSync(dir).filter((name) => name.startsWith("tmp_")),
  );

/** A commit with one random (incompressible) file of `bytes`. */
async function pushRandom(fx: Fixture, bytes: number): Promise<string> {
  writeFileSync(join(fx.seed, "big.bin"), randomBytes(bytes));
  return fx.push({}, "big");
}

/** git:pull with git's trace in a file: the run, and whether it fetched. */
async function pullTraced(node: string, env: Record<string, string>) {
  const trace = join(fx.root, `trace-${Date.now()}-${Math.random()}.log`);
  const run = await fx.cli(["git:pull", "--dir", node, "--json"], { env: { ...env, GIT_TRACE: trace } });
  const lines = existsSync(trace) ? readFileSync(trace, "utf8").split("\n") : [];
  const fetched = lines.some((line) => /trace: (built-in|exec): git .*\bfetch\b/.test(line));
  return { run, outcome: JSON.parse(run.stdout), fetched };
}

describeAsRoot("a commit larger than the free space", () => {
  test("the fetch fails as disk full with the sizes and leaves no temp pack; it is not fetched again until a new commit or more room", async () => {
    const small = await tmpfs("objects", "20m");
    const node = join(small, "node");
    await git(fx.root, "clone", "--quiet", fx.remote, node);
    const before = await git(node, "rev-parse", "HEAD");
    const freeBefore = free(small);
    const big = await pushRandom(fx, 24 * MB);
    const env = { PROTOCOL_DISK_RESERVE_MB: "4" };

    const first = await pullTraced(node, env);
    expect(first.fetched).toBe(true);
    expect(first.run.exitCode).toBe(4);
    expect(first.outcome.result).toBe("disk-full");
    expect(first.outcome.error).toMatch(
      new RegExp(
        `^disk full: fetching ${big.slice(0, 8)} needs more than the \\d+ MB free on ${small} above its 4\\.0 MB reserve \\(stopped at \\d+\\.?\\d* MB free; its temp files were removed\\)$`,
      ),
    );
    expect(first.outcome.hint).toContain(`free space on ${small}`);
    expect(first.run.stderr).toMatch(/^error: disk full: fetching /m);
    expect(fetchTemps(node)).toEqual([]);
    // What the fetch wrote is gone at once, not after the leftovers' minute.
    expect(free(small)).toBeGreaterThan(freeBefore - MB);
    expect(await git(node, "rev-parse", "HEAD")).toBe(before);

    const status = JSON.parse((await fx.cli(["status", "--dir", node, "--json"])).stdout);
    expect(status.lastSync.result).toBe("disk-full");
    expect(status.diskFull).toMatchObject({ commit: big, mount: small, reserve: 4 * MB });
    expect(status.diskFull.freeBefore).toBeGreaterThan(status.diskFull.freeAtStop);
    expect(status.diskFull.retryAbove).toBeGreaterThan(status.diskFull.freeBefore);
    const human = (await fx.cli(["status", "--dir", node])).stdout;
    expect(human).toContain("disk-full at");
    expect(human).toMatch(new RegExp(`disk full +fetching ${big.slice(0, 8)} stopped at [\\d.]+ MB free on ${small}`));

    // The same commit, no more room: not fetched again.
    const held = await pullTraced(node, env);
    expect(held.fetched).toBe(false);
    expect(held.outcome.result).toBe("disk-full");
    expect(held.outcome.error).toContain("not fetched again");
    // A failure for the loop's backoff, like an unreachable remote: the held passes come further apart.
    const [stateFile] = [...new Bun.Glob("apps/*/status.json").scanSync({ cwd: fx.env.PROTOCOL_HOME, absolute: true })];
    expect(JSON.parse(readFileSync(stateFile ?? "", "utf8")).failures).toBe(2);
    expect(fetchTemps(node)).toEqual([]);

    // A new commit is fetched (its history still holds the big file: out of room again).
    const next = await fx.push({ "app.txt": "v3\n" }, "small change");
    const again = await pullTraced(node, env);
    expect(again.fetched).toBe(true);
    expect(again.outcome.result).toBe("disk-full");
    expect(again.outcome.error).toContain(`fetching ${next.slice(0, 8)} needs more than`);
    expect(fetchTemps(node)).toEqual([]);

    // More room: fetched, and the node moves.
    await sh(["mount", "-o", "remount,size=96m", small]);
    const roomy = await pullTraced(node, env);
    expect(roomy.fetched).toBe(true);
    expect(roomy.outcome.result).toBe("deployed");
    expect(await git(node, "rev-parse", "HEAD")).toBe(next);
    const after = JSON.parse((await fx.cli(["status", "--dir", node, "--json"])).stdout);
    expect(after.diskFull).toBeNull();
  }, 60_000);

  test("a commit held for want of room that a person fetched meanwhile is deployed, not held", async () => {
    const small = await tmpfs("fetched", "20m");
    const node = join(small, "node");
    await git(fx.root, "clone", "--quiet", fx.remote, node);
    const big = await pushRandom(fx, 24 * MB);
    const env = { PROTOCOL_DISK_RESERVE_MB: "4" };
    expect((await pullTraced(node, env)).outcome.result).toBe("disk-full");

    // Room for the pack and the checkout, but less free than the failed fetch had plus the margin.
    await sh(["mount", "-o", "remount,size=60m", small]);
    await git(node, "fetch", "--quiet", "origin");
    const held = JSON.parse((await fx.cli(["status", "--dir", node, "--json"])).stdout).diskFull;
    expect(held.freeNow).toBeLessThan(held.retryAbove);

    const run = await pullTraced(node, env);
    expect(run.fetched).toBe(false);
    expect(run.outcome.result).toBe("deployed");
    expect(await git(node, "rev-parse", "HEAD")).toBe(big);
  }, 60_000);

  test("a fetch over a slow link is stopped at the reserve, before the disk is full", async () => {
    await using daemon = await startGitDaemon(fx.root);
    await using slow = await startProxy(daemon.port, { bytesPerSecond: 1_000_000 });
    const small = await tmpfs("slow", "12m");
    const node = join(small, "node");
    await git(fx.root, "clone", "--quiet", `git://127.0.0.1:${slow.port}/remote.git`, node);
    await pushRandom(fx, 16 * MB);

    const run = await fx.cli(["git:pull", "--dir", node, "--json"], { env: { PROTOCOL_DISK_RESERVE_MB: "6" } });
    expect(run.exitCode).toBe(4);
    expect(JSON.parse(run.stdout).result).toBe("disk-full");
    expect(fetchTemps(node)).toEqual([]);
    const room = JSON.parse((await fx.cli(["status", "--dir", node, "--json"])).stdout).diskFull;
    // Stopped by the watch, not by a write that failed (the disk never reached 0 bytes free).
    expect(room.freeAtStop).toBeGreaterThan(MB);
    expect(room.freeAtStop).toBeLessThan(6 * MB);
  }, 60_000);
});
