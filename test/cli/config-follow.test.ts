/**
 * Issue 13: config clones follow, never lead. A node clones the environment's branch whatever the
 * config remote's HEAD says; an environment the remote does not have is refused with a hint, and
 * nothing is pushed: a node never writes to the config remote on its own.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigFixture } from "../helpers/config-fixture.ts";
import { git } from "../helpers/fixture.ts";

let cf: ConfigFixture;
afterEach(async () => cf?.[Symbol.asyncDispose]());

/** The config remote's branches and their tips: what a node must never change. */
const remoteRefs = () =>
  git(cf.fx.root, "--git-dir", cf.configRemote, "for-each-ref", "--format=%(refname) %(objectname)");

async function nodeWithConfigRemote(): Promise<void> {
  cf = await ConfigFixture.create({ clone: false });
  // A plain bare repo where only production was pushed: its HEAD names a branch that does not exist.
  await git(cf.fx.root, "--git-dir", cf.configRemote, "symbolic-ref", "HEAD", "refs/heads/master");
  writeFileSync(join(cf.node, "protocol.json"), JSON.stringify({ configuration: { remote: cf.configRemote } }));
  await git(cf.node, "add", "protocol.json");
  await git(cf.node, "commit", "--quiet", "-m", "protocol.json");
}

describe("a node's config clone", () => {
  test("start production clones production although the remote's HEAD dangles, and pushes nothing", async () => {
    await nodeWithConfigRemote();
    const before = await remoteRefs();
    const run = await cf.cli(["start", "production", "--dir", cf.node, "--interval", "1", "--no-cron"]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await git(cf.config, "branch", "--show-current")).toBe("production");
    expect(await git(cf.config, "rev-parse", "@{upstream}")).toBe(
      await git(cf.config, "rev-parse", "origin/production"),
    );
    expect(await remoteRefs()).toBe(before);
    expect(await git(cf.config, "log", "--format=%s")).not.toContain("protocol: production environment");
  });

  test("start staging, which the remote does not have, is refused with a hint; nothing is cloned or pushed", async () => {
    await nodeWithConfigRemote();
    const before = await remoteRefs();
    const run = await cf.cli(["start", "staging", "--dir", cf.node, "--interval", "1", "--no-cron"]);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("has no environment staging; it has: production");
    expect(run.stderr).toContain("protocol config:new staging, then protocol config:save");
    expect(existsSync(cf.config)).toBe(false);
    expect(await remoteRefs()).toBe(before);
  });

  test("a node with no environment set takes the branch HEAD names; with HEAD dangling it refuses", async () => {
    await nodeWithConfigRemote();
    const refused = await cf.cli(["start", "--dir", cf.node, "--interval", "1", "--no-cron"]);
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toContain("has no environment (its HEAD names no branch); it has: production");
    await git(cf.fx.root, "--git-dir", cf.configRemote, "symbolic-ref", "HEAD", "refs/heads/production");
    const run = await cf.cli(["start", "--dir", cf.node, "--interval", "1", "--no-cron"]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await git(cf.config, "branch", "--show-current")).toBe("production");
  });

  test("an empty config remote: a node refuses and pushes nothing; a person's config:init gives it its first environment", async () => {
    cf = await ConfigFixture.create({ clone: false });
    const empty = join(cf.fx.root, "empty-config.git");
    await git(cf.fx.root, "init", "--quiet", "--bare", empty);
    writeFileSync(join(cf.node, "protocol.json"), JSON.stringify({ configuration: { remote: empty } }));
    const node = await cf.cli(["start", "production", "--dir", cf.node, "--interval", "1", "--no-cron"]);
    expect(node.exitCode).toBe(4);
    expect(node.stderr).toContain("has no environment yet");
    expect(await git(cf.fx.root, "--git-dir", empty, "for-each-ref")).toBe("");

    const person = await cf.cli(["config:init", "--dir", cf.node, "--remote", empty, "--env", "production", "--yes"]);
    expect(person.exitCode, person.stderr).toBe(0);
    expect(await git(cf.fx.root, "--git-dir", empty, "for-each-ref", "--format=%(refname)")).toBe(
      "refs/heads/production",
    );
  });

  test("config:init by a person on a remote without that environment is refused too, naming the ones it has", async () => {
    cf = await ConfigFixture.create({ clone: false });
    const run = await cf.cli([
      "config:init",
      "--dir",
      cf.node,
      "--remote",
      cf.configRemote,
      "--env",
      "staging",
      "--yes",
    ]);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("has no environment staging; it has: production");
    expect(existsSync(cf.config)).toBe(false);
  });
});

describe("the hint to set an environment (issue 24)", () => {
  test("is not given for an app without a config repo; an app with one is told once", async () => {
    cf = await ConfigFixture.create({ clone: false });
    const start = () => cf.cli(["start", "--dir", cf.node, "--interval", "1", "--no-cron"]);
    const plain = await start();
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(plain.stderr).not.toContain("no environment set");
    expect(plain.stderr).not.toContain("config repo");
    expect((await cf.cli(["stop", "--dir", cf.node])).exitCode).toBe(0);
    // Now with a config repo beside the app: it runs on the config repo's current branch, and says so once.
    await git(cf.fx.root, "clone", "--quiet", cf.configRemote, cf.config);
    const withConfig = await start();
    expect(withConfig.exitCode, withConfig.stderr).toBe(0);
    expect(withConfig.stderr).toContain("no environment set for this machine");
    expect((await start()).stderr).not.toContain("no environment set");
    expect((await cf.cli(["stop", "--dir", cf.node])).exitCode).toBe(0);
  });
});
