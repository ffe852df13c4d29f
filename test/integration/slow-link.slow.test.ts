/**
 * Issue 10, "progress is not silence", at the production default: a fetch over a link slow enough to
 * outlast the whole 60 s network timeout. It takes about 70 s of waiting and little CPU, so
 * scripts/test.ts runs *.slow.test.ts files in a shard of their own.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Fixture, git } from "../helpers/fixture.ts";
import { startGitDaemon, startProxy } from "../helpers/git-daemon.ts";

let fx: Fixture;
beforeEach(async () => {
  fx = await Fixture.create();
});
afterEach(async () => fx[Symbol.asyncDispose]());

describe("progress is not silence", () => {
  test("a fetch over a slow link that outlasts the default 60 s network timeout is not killed while data flows", async () => {
    await using daemon = await startGitDaemon(fx.root);
    await using slow = await startProxy(daemon.port, { bytesPerSecond: 60_000 });
    const node = join(fx.root, "node-net");
    await git(fx.root, "clone", "--quiet", `git://127.0.0.1:${slow.port}/remote.git`, node);
    // 4 MB that does not compress: about 70 s through the proxy, longer than the whole window.
    for (let i = 0; i < 8; i++)
      writeFileSync(join(fx.seed, `big-${i}.bin`), crypto.getRandomValues(new Uint8Array(512 * 1024)));
    await git(fx.seed, "add", "--all");
    await git(fx.seed, "commit", "--quiet", "-m", "large");
    await git(fx.seed, "push", "--quiet", "origin", "HEAD:main");
    const pushed = await fx.head(fx.seed);

    const run = await fx.cli(["git:pull", "--dir", node, "--json"], { env: { PROTOCOL_NETWORK_TIMEOUT: undefined } });
    expect(run.stderr).not.toContain("nothing received");
    expect(run.exitCode).toBe(0);
    expect(await git(node, "rev-parse", "HEAD")).toBe(pushed);
    // More than a whole window's worth of bytes came through the throttle: only progress kept the fetch alive.
    expect(slow.delivered).toBeGreaterThan(60 * 60_000);
  }, 150_000);
});
