/**
 * Issue 11: the config repo is data, not code to trust. Links out of it, FIFOs and devices are
 * refused by name (whatever --force says), and the idle poll's hashing never opens them.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { lstatSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { ConfigFixture } from "../helpers/config-fixture.ts";
import { eventually, sh } from "../helpers/fixture.ts";

let cf: ConfigFixture;
beforeEach(async () => {
  cf = await ConfigFixture.create();
  symlinkSync("/dev/zero", join(cf.config, "zero"));
  symlinkSync("/etc/passwd", join(cf.config, "passwd"));
  symlinkSync("/etc", join(cf.config, "etc"));
  symlinkSync(".env", join(cf.config, "alias.env"));
  expect((await sh(["mkfifo", join(cf.config, "pipe")])).exitCode).toBe(0);
});
afterEach(async () => cf[Symbol.asyncDispose]());

const exists = (fixture: ConfigFixture, path: string) =>
  lstatSync(join(fixture.node, path), { throwIfNoEntry: false }) !== undefined;

describe("a hostile config repo", () => {
  test("config:link refuses links out of the repo and special files by name, with or without --force, and links nothing", async () => {
    for (const flags of [[], ["--force"]]) {
      const run = await cf.cli(["config:link", "--dir", cf.node, ...flags]);
      expect(run.exitCode).toBe(4);
      for (const name of ["zero", "passwd", "etc", "pipe"]) expect(run.stderr).toContain(name);
      expect(run.stderr).toContain("outside the config repo");
      expect(run.stderr).toContain("is a FIFO");
    }
    for (const name of ["zero", "passwd", "etc", "pipe", ".env"]) expect(exists(cf, name)).toBe(false);
  });

  test("the plan links the regular files (and links to them inside the repo) and lists each hostile entry as refused", async () => {
    const plan = await cf.cli(["config:link", "--dir", cf.node, "--dry-run", "--json"]);
    const { plan: data } = JSON.parse(plan.stdout);
    const linked = data.actions.map((a: { path: string }) => a.path);
    expect(linked).toEqual(expect.arrayContaining([".env", "alias.env", "nginx.d/site.conf"]));
    expect(linked).not.toContain("zero");
    expect(data.conflicts.map((c: { path: string; kind: string }) => `${c.kind}:${c.path}`).sort()).toEqual([
      "refused:etc",
      "refused:passwd",
      "refused:pipe",
      "refused:zero",
    ]);
  });

  test("a sync with /dev/zero and a FIFO in the config repo finishes: hashing opens only regular files", async () => {
    const run = await cf.cli(["git:pull", "--dir", cf.node, "--json"]);
    expect(run.exitCode).toBe(0);
    const again = await cf.cli(["git:pull", "--dir", cf.node, "--json"]);
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout).result).toBe("up-to-date");
  }, 20_000);
});

describe("protocol never writes a tracked file of the app", () => {
  test("a protocol block committed in .gitignore is left alone: links go to .git/info/exclude, the node never turns dirty", async () => {
    const block =
      "# BEGIN protocol config (links into the config repo; managed by protocol config:link)\n/.env\n# END protocol config\n";
    const other = await ConfigFixture.create({ appFiles: { ".gitignore": block } });
    try {
      const link = await other.cli(["config:link", "--dir", other.node]);
      expect(link.exitCode).toBe(0);
      expect(readFileSync(join(other.node, ".gitignore"), "utf8")).toBe(block);
      expect(readFileSync(join(other.node, ".git", "info", "exclude"), "utf8")).toContain("/nginx.d/site.conf");
      expect((await sh(["git", "status", "--porcelain"], { cwd: other.node })).stdout).toBe("");
      const pull = await other.cli(["git:pull", "--dir", other.node]);
      expect(pull.exitCode).toBe(0);
      const status = await other.cli(["config:status", "--dir", other.node]);
      expect(status.stdout).toContain("the app's .gitignore holds a protocol block (committed): left alone");
      const refused = await other.cli(["config:link", "--dir", other.node, "--gitignore"]);
      expect(refused.exitCode).toBe(2);
      expect(readFileSync(join(other.node, ".gitignore"), "utf8")).toBe(block);
    } finally {
      await other[Symbol.asyncDispose]();
    }
  });
});

describe("a hostile commit arriving in the config repo", () => {
  /** Push a commit whose tree holds links out of the repo, a link inside it, and a submodule. */
  async function pushHostile(other: ConfigFixture, branch: string): Promise<string> {
    const seed = other.configSeed;
    await sh(["git", "switch", "--quiet", "-C", branch], { cwd: seed });
    symlinkSync("/etc/passwd", join(seed, "passwd"));
    symlinkSync("../../../../etc/hostname", join(seed, "up"));
    symlinkSync(".env", join(seed, "alias.env"));
    const head = (await sh(["git", "rev-parse", "HEAD"], { cwd: seed })).stdout.trim();
    for (const args of [
      ["add", "--", "passwd", "up", "alias.env"],
      ["update-index", "--add", "--cacheinfo", `160000,${head},vendor`],
      ["commit", "--quiet", "-m", "hostile"],
      ["push", "--quiet", "origin", `HEAD:${branch}`],
    ])
      expect((await sh(["git", ...args], { cwd: seed })).exitCode).toBe(0);
    return (await sh(["git", "rev-parse", "HEAD"], { cwd: seed })).stdout.trim();
  }

  test("config:switch to it is refused before the switch: the repo stays on its environment, no link changes", async () => {
    await using other = await ConfigFixture.create();
    expect((await other.cli(["config:link", "--dir", other.node])).exitCode).toBe(0);
    await pushHostile(other, "evil");
    const run = await other.cli(["config:switch", "evil", "--dir", other.node]);
    expect(run.exitCode).toBe(4);
    for (const refused of [
      "passwd is a link to /etc/passwd",
      "up is a link to ../../../../etc/hostname",
      "vendor is a submodule",
    ])
      expect(run.stderr).toContain(refused);
    expect(run.stderr).not.toContain("alias.env");
    expect((await sh(["git", "branch", "--show-current"], { cwd: other.config })).stdout.trim()).toBe("production");
    for (const name of ["passwd", "up", "vendor", "alias.env"]) expect(exists(other, name)).toBe(false);
    expect(readFileSync(join(other.node, ".env"), "utf8")).toBe("SECRET=hunter2\n");
  });

  test("the config slave refuses it before the move: HEAD stays, the error names each entry", async () => {
    await using other = await ConfigFixture.create();
    expect((await other.cli(["config:link", "--dir", other.node])).exitCode).toBe(0);
    const before = (await sh(["git", "rev-parse", "HEAD"], { cwd: other.config })).stdout.trim();
    const hostile = await pushHostile(other, "production");
    expect((await other.cli(["config:slave", "--dir", other.node, "--interval", "1"])).exitCode).toBe(0);
    let status: { lastSync?: { result?: string; error?: string } } = {};
    expect(
      await eventually(async () => {
        status = JSON.parse((await other.cli(["config:status", "--dir", other.node, "--json"])).stdout);
        return status.lastSync?.result === "error";
      }),
    ).toBe(true);
    expect(status.lastSync?.error).toContain("passwd is a link to /etc/passwd");
    expect((await sh(["git", "rev-parse", "HEAD"], { cwd: other.config })).stdout.trim()).toBe(before);
    expect((await sh(["git", "rev-parse", "origin/production"], { cwd: other.config })).stdout.trim()).toBe(hostile);
    for (const name of ["passwd", "up", "vendor"]) expect(exists(other, name)).toBe(false);
  });
});
