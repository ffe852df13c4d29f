/**
 * Issue 11: the config repo is data, not code to trust. Links out of it, FIFOs and devices are
 * refused by name (whatever --force says), and the idle poll's hashing never opens them.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { lstatSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { ConfigFixture } from "../helpers/config-fixture.ts";
import { sh } from "../helpers/fixture.ts";

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

const exists = (path: string) => lstatSync(join(cf.node, path), { throwIfNoEntry: false }) !== undefined;

describe("a hostile config repo", () => {
  test("config:link refuses links out of the repo and special files by name, with or without --force, and links nothing", async () => {
    for (const flags of [[], ["--force"]]) {
      const run = await cf.cli(["config:link", "--dir", cf.node, ...flags]);
      expect(run.exitCode).toBe(4);
      for (const name of ["zero", "passwd", "etc", "pipe"]) expect(run.stderr).toContain(name);
      expect(run.stderr).toContain("outside the config repo");
      expect(run.stderr).toContain("is a FIFO");
    }
    for (const name of ["zero", "passwd", "etc", "pipe", ".env"]) expect(exists(name)).toBe(false);
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
