/**
 * Issue 29, items 1 and 3, for the compose pull a deploy runs before the working copy moves (the
 * incoming commit's images, deploy/prepull.ts): it is one of compose's long steps, so it is given up
 * after PROTOCOL_COMPOSE_TIMEOUT of silence like the others, and what it prints is output for people
 * (its tail kept), never a reason to fail. A docker on PATH that misbehaves on `pull` only and hands
 * every other call to the fake docker.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliArgv, FAKE_DOCKER_DIR, Fixture, sh } from "../helpers/fixture.ts";
import { testNeeding } from "../helpers/needs.ts";
import { killProcessesWithArgv, processesWithArgv } from "../helpers/processes.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => {
  killProcessesWithArgv(["sleep", "1017.5"]);
  await fx[Symbol.asyncDispose]();
});

const withTime = testNeeding(
  existsSync("/usr/bin/time") ? null : "/usr/bin/time is not installed (apt-get install time)",
);

/** A docker that runs `onPull` (sh) for any compose pull, and is the fake docker otherwise. PATH with it first. */
function dockerWhosePull(onPull: string): string {
  const dir = join(fx.root, "hostile-docker");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "docker"),
    `#!/bin/sh\nif [ "$1" = compose ]; then for a in "$@"; do if [ "$a" = pull ]; then ${onPull}\nexit 0; fi; done; fi\nexec "${FAKE_DOCKER_DIR}/docker" "$@"\n`,
  );
  chmodSync(join(dir, "docker"), 0o755);
  return `${dir}:${FAKE_DOCKER_DIR}:${process.env.PATH}`;
}

const composeCommit = () =>
  fx.push({
    "protocol.json": JSON.stringify({ deploy: { settleSeconds: 0 } }),
    "docker-compose.yml": "services:\n  app:\n    image: busybox\n",
  });

describe("the compose pull before the move", () => {
  test("one that hangs silent is given up after PROTOCOL_COMPOSE_TIMEOUT, what it started too; nothing moves", async () => {
    const before = await fx.head();
    await composeCommit();
    const started = Date.now();
    const run = await sh(["timeout", "25", ...cliArgv(), "git:pull", "--dir", fx.node], {
      cwd: fx.root,
      env: { ...fx.env, PATH: dockerWhosePull("sleep 1017.5 & wait"), PROTOCOL_COMPOSE_TIMEOUT: "2" },
    });
    // timeout(1) exits 124 when it had to kill protocol.
    expect(run.exitCode).not.toBe(124);
    expect(run.exitCode).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(run.stderr).toContain("pull");
    expect(await fx.head()).toBe(before);
    await Bun.sleep(500);
    expect(processesWithArgv(["sleep", "1017.5"])).toEqual([]);
  }, 60_000);

  withTime(
    "one that prints 100 MB on stdout: the deploy goes on, protocol's peak RSS stays under 150 MB",
    async () => {
      const pushed = await composeCommit();
      const report = join(fx.root, "time.txt");
      const run = await sh(
        ["/usr/bin/time", "-o", report, "-f", "maxrss-kb=%M", ...cliArgv(), "git:pull", "--dir", fx.node],
        {
          cwd: fx.root,
          env: { ...fx.env, PATH: dockerWhosePull("head -c 100000000 /dev/zero | tr '\\\\0' p") },
        },
      );
      expect(run.stderr).not.toContain("stopped by protocol");
      expect(run.exitCode).toBe(0);
      expect(await fx.head()).toBe(pushed);
      const peakKb = Number(/maxrss-kb=(\d+)/.exec(readFileSync(report, "utf8"))?.[1]);
      expect(peakKb).toBeGreaterThan(0);
      expect(peakKb).toBeLessThan(150 * 1024);
    },
    60_000,
  );
});
