/**
 * Issue 29, item 3, on disk: each line a hook prints goes to the node's log, and the log is kept to
 * a size (slave.log rotated to slave.log.1 past 5 MB). A hook that prints 400,000 short lines (a
 * verbose migration, a `set -x` left in) must not grow the log without bound while the loop runs:
 * the disk it fills is the node's. Real loop, real sh; the docker steps go to the fake docker.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { eventually, Fixture } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

const MB = 1024 * 1024;

async function status(): Promise<any> {
  return JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);
}

describe("the node's log stays bounded whatever a hook prints", () => {
  test("a hook printing 400,000 lines (20 MB of log) in the loop: the deploy goes on, slave.log and slave.log.1 stay under 12 MB", async () => {
    const pushed = await fx.push({
      "protocol.json": JSON.stringify({
        deploy: {
          settleSeconds: 0,
          hooks: { beforeMove: [{ run: ["sh", "-c", "seq 400000; echo hook-finished"], timeout: 120 }] },
        },
      }),
      "docker-compose.yml": "services:\n  app:\n    image: busybox\n",
    });
    const started = await fx.cli(["git:slave", "--dir", fx.node, "--interval", "60"], { fakeDocker: true });
    expect(started.exitCode, started.stderr).toBe(0);
    expect(await eventually(async () => (await status()).deployedCommit === pushed, 90_000, 500)).toBe(true);
    const [appDir] = readdirSync(join(fx.env.PROTOCOL_HOME ?? "", "apps"));
    const dir = join(fx.env.PROTOCOL_HOME ?? "", "apps", appDir ?? "");
    const logBytes = readdirSync(dir)
      .filter((name) => name.startsWith("slave.log"))
      .reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
    expect(logBytes).toBeLessThan(12 * MB);
  }, 120_000);
});
