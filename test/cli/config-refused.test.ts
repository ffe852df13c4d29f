/**
 * Issue 29: one entry of the config repo that protocol refuses to link (a link to /dev/zero) made
 * `start` exit 4 and start no loop, so no push could fix it. start links the rest, names the
 * refused entry, starts the loop; status lists it; the push that fixes it is linked by the loop.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { ConfigFixture } from "../helpers/config-fixture.ts";
import { eventually, git } from "../helpers/fixture.ts";

let cf: ConfigFixture;
afterEach(async () => cf?.[Symbol.asyncDispose]());

async function status(): Promise<any> {
  const run = await cf.cli(["status", "--dir", cf.node, "--json"]);
  expect(run.exitCode, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

describe("a config repo with one entry protocol refuses", () => {
  test("start links the rest, names it, starts the loop; status lists it; the push that fixes it is linked by the loop", async () => {
    cf = await ConfigFixture.create({ clone: false });
    symlinkSync("/dev/zero", join(cf.configSeed, "zero"));
    await cf.pushConfig({}, "a link out of the repo");
    await git(cf.fx.root, "clone", "--quiet", cf.configRemote, cf.config);

    const started = await cf.cli(["start", "--dir", cf.node, "--interval", "1", "--no-cron"]);
    expect(started.exitCode, started.stderr).toBe(0);
    expect(started.stderr).toContain("config: zero is a link to /dev/zero");
    expect(readFileSync(join(cf.node, ".env"), "utf8")).toBe("SECRET=hunter2\n");
    expect(existsSync(join(cf.node, "nginx.d", "site.conf"))).toBe(true);
    expect(existsSync(join(cf.node, "zero"))).toBe(false);
    const first = await status();
    expect(first.slave.running).toBe(true);
    expect(first.config.refused).toEqual([{ path: "zero", detail: expect.stringContaining("/dev/zero") }]);
    const shown = await cf.cli(["status", "--dir", cf.node]);
    expect(shown.stdout).toMatch(/not linked\s+zero is a link to \/dev\/zero/);

    rmSync(join(cf.configSeed, "zero"));
    await cf.pushConfig({ zero: "a regular file now\n" }, "zero fixed");
    expect(
      await eventually(() => existsSync(join(cf.node, "zero")) && readFileSync(join(cf.node, "zero"), "utf8") !== ""),
    ).toBe(true);
    expect(readFileSync(join(cf.node, "zero"), "utf8")).toBe("a regular file now\n");
    expect((await status()).config.refused).toEqual([]);
  }, 40_000);

  test("config:link still refuses it and links nothing (a person asked for every link)", async () => {
    cf = await ConfigFixture.create();
    symlinkSync("/dev/zero", join(cf.config, "zero"));
    const run = await cf.cli(["config:link", "--dir", cf.node]);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("zero is a link to /dev/zero");
    expect(existsSync(join(cf.node, ".env"))).toBe(false);
  });
});
