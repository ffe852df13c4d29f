/**
 * Issue 29 (9) with item 5's premise: another state dir (another HOME or PROTOCOL_HOME, as root and a
 * deploy user each running protocol) does not make a config dir any less shared. The second app
 * taking the dir the first one's loop follows is refused, and the first app's environment stays.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigFixture } from "../helpers/config-fixture.ts";
import { git } from "../helpers/fixture.ts";

let cf: ConfigFixture;
let app2: string;
let home2: Record<string, string>;
beforeEach(async () => {
  cf = await ConfigFixture.create();
  await cf.pushConfig({ ".env": "ENV=staging\n" }, "staging", "staging");
  app2 = join(cf.fx.root, "app2");
  await git(cf.fx.root, "clone", "--quiet", cf.fx.remote, app2);
  writeFileSync(join(app2, "protocol.json"), JSON.stringify({ configuration: { local: cf.config } }));
  home2 = { PROTOCOL_HOME: join(cf.fx.root, "other-state") };
});
afterEach(async () => {
  await cf.cli(["stop", "--dir", app2], { env: home2 });
  await cf[Symbol.asyncDispose]();
});

describe("two apps on one config dir, two state dirs", () => {
  test("the second app's start staging, from another PROTOCOL_HOME, is refused; the first keeps production", async () => {
    const first = await cf.cli(["start", "production", "--dir", cf.node, "--interval", "60", "--no-cron"]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(readFileSync(join(cf.node, ".env"), "utf8")).toBe("SECRET=hunter2\n");

    const second = await cf.cli(["start", "staging", "--dir", app2, "--interval", "60", "--no-cron"], { env: home2 });
    expect(second.exitCode).toBe(4);
    expect(second.stderr).toContain(`is already used by the app in ${cf.node}`);
    expect(readFileSync(join(cf.node, ".env"), "utf8")).toBe("SECRET=hunter2\n");
    expect(await git(cf.config, "branch", "--show-current")).toBe("production");
  }, 40_000);
});
