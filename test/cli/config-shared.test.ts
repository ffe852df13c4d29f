/**
 * Issue 29 (9): two apps with one config dir switched each other's environment (app1 on
 * production, app2 started on staging: app1's .env read ENV=staging) and ran two loops on one repo.
 * A second app taking a config dir another registered app uses is refused, naming the other.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigFixture } from "../helpers/config-fixture.ts";
import { Fixture, git } from "../helpers/fixture.ts";

let cf: ConfigFixture;
let app2: string;
beforeEach(async () => {
  cf = await ConfigFixture.create();
  await cf.pushConfig({ ".env": "ENV=staging\n" }, "staging", "staging");
  // A second clone of the app beside the first, pointed at the same config dir.
  app2 = join(cf.fx.root, "app2");
  await git(cf.fx.root, "clone", "--quiet", cf.fx.remote, app2);
  writeFileSync(join(app2, "protocol.json"), JSON.stringify({ configuration: { local: cf.config } }));
});
afterEach(async () => {
  await cf.cli(["stop", "--dir", app2]);
  await cf[Symbol.asyncDispose]();
});

const env1 = () => readFileSync(join(cf.node, ".env"), "utf8");

describe("two apps on one config dir", () => {
  test("start, config:switch, config:init, config:link and config:slave of the second app are refused, naming the first; its env stays", async () => {
    const first = await cf.cli(["start", "production", "--dir", cf.node, "--interval", "60", "--no-cron"]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(env1()).toBe("SECRET=hunter2\n");

    for (const args of [
      ["start", "staging", "--no-cron", "--interval", "60"],
      ["config:switch", "staging"],
      ["config:init", "--yes"],
      ["config:link"],
      ["config:slave", "--interval", "60"],
    ]) {
      const run = await cf.cli([...args, "--dir", app2]);
      expect(run.exitCode, args[0]).toBe(4);
      expect(run.stderr).toContain(`is already used by the app in ${cf.node}`);
      expect(run.stderr).toContain(`protocol stop --dir ${cf.node}`);
    }
    expect(env1()).toBe("SECRET=hunter2\n");
    expect(await git(cf.config, "branch", "--show-current")).toBe("production");
    const status = JSON.parse((await cf.cli(["status", "--dir", app2, "--json"])).stdout);
    expect(status.slave.running).toBe(false);
  }, 40_000);

  test("once the first app is stopped, the second may take the dir; a restart (after a reboot) of the first warns and goes on", async () => {
    expect((await cf.cli(["start", "production", "--dir", cf.node, "--interval", "60", "--no-cron"])).exitCode).toBe(0);
    expect((await cf.cli(["stop", "--dir", cf.node])).exitCode).toBe(0);
    const run = await cf.cli(["start", "staging", "--dir", app2, "--interval", "60", "--no-cron"]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(env1()).toBe("ENV=staging\n");
    // Refusing there would leave both apps without a loop after a reboot.
    const restarted = await cf.cli(["restart", cf.node]);
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    expect(restarted.stderr).toContain(`is already used by the app in ${app2}`);
  }, 40_000);

  test("two clones of an app without a config repo (one name, so one default config dir) both start", async () => {
    await using fx = await Fixture.create({ files: { "protocol.json": JSON.stringify({ name: "shop" }) } });
    const second = join(fx.root, "second");
    await git(fx.root, "clone", "--quiet", fx.remote, second);
    for (const dir of [fx.node, second]) {
      const run = await fx.cli(["start", "--dir", dir, "--interval", "60", "--no-cron"]);
      expect(run.exitCode, run.stderr).toBe(0);
    }
    await fx.cli(["stop", "--dir", second]);
  }, 40_000);
});
