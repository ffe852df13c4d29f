/**
 * Issue 12: the loop's environment is the operator's. DOCKER_HOST, proxies and the like are
 * recorded at start; a start with other values restarts the running loop (and says so); restart —
 * what cron's @reboot line runs, with an almost empty environment — runs the node with what was
 * recorded; status --verbose shows it.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Fixture } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

const status = async () => JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);

/** What a running process has in its environment. */
function environOf(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
  );
}

const start = (env: Record<string, string | undefined>) =>
  fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"], { env });

describe("the loop's environment", () => {
  test("is recorded at start; another DOCKER_HOST at the next start restarts the loop with it", async () => {
    expect((await start({ DOCKER_HOST: "unix:///tmp/engine-a.sock" })).exitCode).toBe(0);
    const first = (await status()).slave.pid;
    expect(environOf(first).DOCKER_HOST).toBe("unix:///tmp/engine-a.sock");
    // The loop runs without the JIT (its memory: bench/memory.ts).
    expect(environOf(first).BUN_JSC_useJIT).toBe("0");

    const same = await start({ DOCKER_HOST: "unix:///tmp/engine-a.sock" });
    expect(same.stderr).not.toContain("restarted");
    expect((await status()).slave.pid).toBe(first);

    const changed = await start({ DOCKER_HOST: "unix:///tmp/engine-b.sock" });
    expect(changed.exitCode, changed.stderr).toBe(0);
    expect(changed.stderr).toContain("slave mode restarted: its environment changed (DOCKER_HOST)");
    const second = (await status()).slave.pid;
    expect(second).not.toBe(first);
    expect(environOf(second).DOCKER_HOST).toBe("unix:///tmp/engine-b.sock");
  });

  test("restart (cron: no DOCKER_HOST, no proxy) runs the node with what start recorded", async () => {
    expect(
      (await start({ DOCKER_HOST: "tcp://10.0.0.9:2376", HTTPS_PROXY: "http://user:secret@proxy:3128" })).exitCode,
    ).toBe(0);
    expect((await fx.cli(["git:slave:stop", "--dir", fx.node])).exitCode).toBe(0);
    const restarted = await fx.cli(["restart"], { env: { DOCKER_HOST: undefined, HTTPS_PROXY: undefined } });
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    const pid = (await status()).slave.pid;
    expect(environOf(pid)).toMatchObject({
      DOCKER_HOST: "tcp://10.0.0.9:2376",
      HTTPS_PROXY: "http://user:secret@proxy:3128",
    });

    const shown = await status();
    expect(shown.loopEnv).toEqual({ DOCKER_HOST: "tcp://10.0.0.9:2376", HTTPS_PROXY: "http://proxy:3128" });
    const verbose = await fx.cli(["status", "--dir", fx.node, "--verbose"]);
    expect(verbose.stdout).toMatch(/loop env\s+DOCKER_HOST=tcp:\/\/10\.0\.0\.9:2376 HTTPS_PROXY=http:\/\/proxy:3128/);
    expect(verbose.stdout).not.toContain("secret");
    expect((await fx.cli(["status", "--dir", fx.node])).stdout).not.toContain("loop env");
  });
});
