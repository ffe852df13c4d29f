import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { ConfigFixture } from "../helpers/config-fixture.ts";
import { git, sh } from "../helpers/fixture.ts";

let cf: ConfigFixture;
beforeEach(async () => (cf = await ConfigFixture.create()));
afterEach(async () => cf[Symbol.asyncDispose]());

const exclude = () => readFileSync(join(cf.node, ".git", "info", "exclude"), "utf8");
const appStatus = async () =>
  (await sh(["git", "status", "--porcelain", "--untracked-files=all"], { cwd: cf.node })).stdout;
const isLink = (path: string) => lstatSync(join(cf.node, path), { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
const backupsIn = (stderr: string) => [...stderr.matchAll(/backup of [^:]+: (\S.*)$/gm)].map((m) => m[1]!.trim());

describe("config:link (app dir with a space in its path)", () => {
  test("creates relative links and ignore entries, and the app repo stays clean", async () => {
    const run = await cf.cli(["config:link", "--dir", cf.node]);
    expect(run.exitCode).toBe(0);
    expect(readlinkSync(join(cf.node, ".env"))).toBe("../shop app-config/.env");
    expect(readlinkSync(join(cf.node, "nginx.d", "site.conf"))).toBe("../../shop app-config/nginx.d/site.conf");
    expect(readFileSync(join(cf.node, "nginx.d", "site.conf"), "utf8")).toBe("server {}\n");
    expect(exclude()).toContain("/.env\n/nginx.d/site.conf\n");
    expect(await appStatus()).toBe("");
    expect(statSync(join(cf.config, ".env")).mode & 0o777).toBe(0o600);
  });

  test("a conflict anywhere changes nothing and lists every conflict (exit 4)", async () => {
    writeFileSync(join(cf.node, ".env"), "LOCAL=1\n");
    mkdirSync(join(cf.node, "nginx.d"));
    symlinkSync("/etc/hosts", join(cf.node, "nginx.d", "site.conf"));
    await cf.pushConfig({ "cron.d/app": "* * * * * true\n" });
    await git(cf.config, "pull", "--quiet");
    const before = exclude();
    const run = await cf.cli(["config:link", "--dir", cf.node]);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain(".env is a real file");
    expect(run.stderr).toContain("nginx.d/site.conf is a link protocol did not make");
    expect(existsSync(join(cf.node, "cron.d"))).toBe(false);
    expect(readFileSync(join(cf.node, ".env"), "utf8")).toBe("LOCAL=1\n");
    expect(readlinkSync(join(cf.node, "nginx.d", "site.conf"))).toBe("/etc/hosts");
    expect(exclude()).toBe(before);
  });

  test("--dry-run prints the plan and changes nothing; --json gives it as data", async () => {
    const dry = await cf.cli(["config:link", "--dir", cf.node, "--dry-run"]);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain("link");
    expect(dry.stdout).toContain(".env -> ../shop app-config/.env");
    expect(isLink(".env")).toBe(false);
    const json = await cf.cli(["config:link", "--dir", cf.node, "--dry-run", "--json"]);
    expect(JSON.parse(json.stdout).plan.actions.map((a: { kind: string }) => a.kind)).toEqual(["create", "create"]);
  });

  test("--force backs the app's file up (path printed) and links over it", async () => {
    writeFileSync(join(cf.node, ".env"), "LOCAL=1\n");
    const run = await cf.cli(["config:link", "--dir", cf.node, "--force"]);
    expect(run.exitCode).toBe(0);
    expect(isLink(".env")).toBe(true);
    const [backup] = backupsIn(run.stderr);
    expect(readFileSync(backup!, "utf8")).toBe("LOCAL=1\n");
    expect(backup!.startsWith(cf.node)).toBe(false);
  });

  test("--adopt moves the app's file into the config repo, keeping backups of both versions", async () => {
    writeFileSync(join(cf.node, ".env"), "ADOPTED=1\n");
    const run = await cf.cli(["config:link", "--dir", cf.node, "--adopt"]);
    expect(run.exitCode).toBe(0);
    expect(readFileSync(join(cf.config, ".env"), "utf8")).toBe("ADOPTED=1\n");
    expect(readFileSync(join(cf.node, ".env"), "utf8")).toBe("ADOPTED=1\n");
    const contents = backupsIn(run.stderr).map((path) => readFileSync(path, "utf8"));
    expect(contents.sort()).toEqual(["ADOPTED=1\n", "SECRET=hunter2\n"]);
    expect(run.stderr).not.toContain("hunter2");
  });
});

describe("config:unlink / config:refresh", () => {
  test("unlink removes only links into the config repo and leaves foreign links and real files alone", async () => {
    await cf.cli(["config:link", "--dir", cf.node]);
    symlinkSync("README.md", join(cf.node, "foreign"));
    await cf.pushConfig({ foreign: "x\n", "real.txt": "from config\n" });
    await git(cf.config, "pull", "--quiet");
    writeFileSync(join(cf.node, "real.txt"), "mine\n");
    const run = await cf.cli(["config:unlink", "--dir", cf.node, "--json"]);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      removed: [".env", "nginx.d/site.conf"],
      skipped: ["foreign", "real.txt"],
    });
    expect(existsSync(join(cf.node, ".env"))).toBe(false);
    expect(existsSync(join(cf.node, "nginx.d"))).toBe(false);
    expect(readlinkSync(join(cf.node, "foreign"))).toBe("README.md");
    expect(readFileSync(join(cf.node, "real.txt"), "utf8")).toBe("mine\n");
    expect(exclude()).not.toContain("protocol config");
  });

  test("refresh drops links whose source was deleted", async () => {
    await cf.cli(["config:link", "--dir", cf.node]);
    await cf.pushConfig({ "nginx.d/site.conf": null });
    await git(cf.config, "pull", "--quiet");
    const run = await cf.cli(["config:refresh", "--dir", cf.node]);
    expect(run.exitCode).toBe(0);
    expect(isLink("nginx.d/site.conf")).toBe(false);
    expect(isLink(".env")).toBe(true);
    expect(exclude()).not.toContain("site.conf");
  });
});

describe("environments", () => {
  test("switch relinks and removes the links the new environment does not have", async () => {
    await cf.pushConfig(
      { ".env": "STAGING=1\n", "nginx.d/site.conf": null, "staging.txt": "s\n" },
      "staging",
      "staging",
    );
    await cf.cli(["config:link", "--dir", cf.node]);
    const run = await cf.cli(["config:switch", "staging", "--dir", cf.node]);
    expect(run.exitCode).toBe(0);
    expect(await git(cf.config, "branch", "--show-current")).toBe("staging");
    expect(readFileSync(join(cf.node, ".env"), "utf8")).toBe("STAGING=1\n");
    expect(isLink("staging.txt")).toBe(true);
    expect(existsSync(join(cf.node, "nginx.d", "site.conf"))).toBe(false);
    expect(await appStatus()).toBe("");
  });

  test("switch refuses while the config repo has unsaved changes, and changes nothing", async () => {
    await cf.pushConfig({ ".env": "STAGING=1\n" }, "staging", "staging");
    await cf.cli(["config:link", "--dir", cf.node]);
    writeFileSync(join(cf.node, ".env"), "EDITED=1\n");
    const run = await cf.cli(["config:switch", "staging", "--dir", cf.node]);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("unsaved changes");
    expect(await git(cf.config, "branch", "--show-current")).toBe("production");
    expect(readFileSync(join(cf.config, ".env"), "utf8")).toBe("EDITED=1\n");
  });

  test("switch with no argument uses the machine's env from config:env", async () => {
    await cf.pushConfig({ ".env": "STAGING=1\n" }, "staging", "staging");
    expect((await cf.cli(["config:switch", "--dir", cf.node])).exitCode).toBe(2);
    expect((await cf.cli(["config:env", "staging"])).exitCode).toBe(0);
    expect((await cf.cli(["config:env"])).stdout.trim()).toBe("staging");
    expect((await cf.cli(["config:switch", "--dir", cf.node])).exitCode).toBe(0);
    expect(await git(cf.config, "branch", "--show-current")).toBe("staging");
    const status = JSON.parse((await cf.cli(["status", "--dir", cf.node, "--json"])).stdout);
    expect(status.config).toMatchObject({ env: "staging", dir: cf.config, branch: "staging" });
    await cf.cli(["config:env", "--unset"]);
    expect(JSON.parse((await cf.cli(["config:env", "--json"])).stdout)).toEqual({ env: null, dev: false });
  });

  test("new creates an environment from the current one, or empty", async () => {
    expect((await cf.cli(["config:new", "staging", "--dir", cf.node])).exitCode).toBe(0);
    expect(await git(cf.config, "ls-tree", "-r", "--name-only", "staging")).toContain(".env");
    expect((await cf.cli(["config:new", "blank", "--empty", "--dir", cf.node])).exitCode).toBe(0);
    expect(await git(cf.config, "ls-tree", "-r", "--name-only", "blank")).toBe("");
    expect((await cf.cli(["config:new", "staging", "--dir", cf.node])).exitCode).toBe(4);
    expect((await cf.cli(["config:new", "-bad", "--dir", cf.node])).exitCode).not.toBe(0);
  });

  test("save commits every change and pushes it to the bare remote; then says there is nothing to save", async () => {
    await cf.cli(["config:link", "--dir", cf.node]);
    writeFileSync(join(cf.node, ".env"), "SECRET=rotated\n");
    const run = await cf.cli(["config:save", "--dir", cf.node, "-m", "rotate the secret"]);
    expect(run.exitCode).toBe(0);
    expect(run.stderr).not.toContain("rotated");
    expect(await git(cf.configRemote, "log", "-1", "--format=%s", "production")).toBe("rotate the secret");
    expect(await git(cf.configRemote, "show", "production:.env")).toBe("SECRET=rotated");
    const again = await cf.cli(["config:save", "--dir", cf.node]);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain("nothing to save");
  });
});

describe("config:save and a link that became a real file (issue 24)", () => {
  test("sed -i on a linked file: save refuses and pushes nothing; --adopt moves the edit into the config repo, links it again and pushes it", async () => {
    expect((await cf.cli(["config:link", "--dir", cf.node])).exitCode).toBe(0);
    const env = join(cf.node, ".env");
    // GNU sed -i writes a new file and renames it over the link: the link is gone, the edit is in the app only.
    expect((await sh(["sed", "-i", "s/hunter2/rotated/", env])).exitCode).toBe(0);
    expect(lstatSync(env).isSymbolicLink()).toBe(false);
    const pushedBefore = await git(cf.configRemote, "rev-parse", "production");

    const refused = await cf.cli(["config:save", "--dir", cf.node]);
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toContain(".env: linked from the config repo, now a real file in the app");
    expect(refused.stderr).toContain("protocol config:save --adopt");
    expect(refused.stderr).not.toContain("pushed production");
    expect(refused.stderr).not.toContain("rotated");
    expect(await git(cf.configRemote, "rev-parse", "production")).toBe(pushedBefore);
    expect(await git(cf.config, "status", "--porcelain")).toBe("");

    const adopted = await cf.cli(["config:save", "--dir", cf.node, "--adopt", "-m", "rotate via sed"]);
    expect(adopted.exitCode, adopted.stderr).toBe(0);
    expect(adopted.stderr).toContain("adopted .env into the config repo");
    expect(adopted.stderr).toContain("pushed production");
    expect(adopted.stderr).not.toContain("rotated");
    expect(lstatSync(env).isSymbolicLink()).toBe(true);
    expect(await git(cf.configRemote, "show", "production:.env")).toBe("SECRET=rotated");
    expect(await git(cf.configRemote, "log", "-1", "--format=%s", "production")).toBe("rotate via sed");
  });
});

describe("config:status", () => {
  test("shows links, missing and broken ones, and a linked file edited on this box — never its content", async () => {
    await cf.cli(["config:link", "--dir", cf.node]);
    writeFileSync(join(cf.node, ".env"), "SECRET=edited-on-the-box\n");
    await cf.pushConfig({ "cron.d/app": "x\n" });
    await git(cf.config, "stash", "--quiet");
    await git(cf.config, "pull", "--quiet");
    await git(cf.config, "stash", "pop", "--quiet");
    const run = await cf.cli(["config:status", "--dir", cf.node, "--json"]);
    expect(run.exitCode).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(status).toMatchObject({ exists: true, branch: "production", edited: [".env"], unsaved: [] });
    expect(status.links).toEqual([
      { path: ".env", state: "linked" },
      { path: "cron.d/app", state: "missing" },
      { path: "nginx.d/site.conf", state: "linked" },
    ]);
    expect(run.stdout).not.toContain("edited-on-the-box");
    expect(run.stdout).not.toContain("hunter2");
    const human = await cf.cli(["config:status", "--dir", cf.node]);
    expect(human.stdout).toContain("edited");
    expect(human.stdout).toContain(".env (changed on this box, not saved)");
  });
});

describe("config:cp / config:mv", () => {
  test("cp refuses paths outside the app, .git, and tracked files unless --untrack", async () => {
    expect((await cf.cli(["config:cp", join(cf.fx.root, "config.git"), "--dir", cf.node])).exitCode).toBe(2);
    expect((await cf.cli(["config:cp", ".git/config", "--dir", cf.node], { cwd: cf.node })).exitCode).toBe(2);
    const tracked = await cf.cli(["config:cp", "README.md", "--dir", cf.node], { cwd: cf.node });
    expect(tracked.exitCode).toBe(4);
    expect(tracked.stderr).toContain("--untrack");
    expect(existsSync(join(cf.config, "README.md"))).toBe(false);
  });

  test("mv moves a directory into the config repo and links its files back, with secrets at 0600", async () => {
    mkdirSync(join(cf.node, "certs dir"));
    writeFileSync(join(cf.node, "certs dir", "site.key"), "KEY\n");
    writeFileSync(join(cf.node, "certs dir", "site.crt"), "CRT\n");
    const run = await cf.cli(["config:mv", "certs dir", "--dir", cf.node], { cwd: cf.node });
    expect(run.exitCode).toBe(0);
    expect(readFileSync(join(cf.config, "certs dir", "site.key"), "utf8")).toBe("KEY\n");
    expect(statSync(join(cf.config, "certs dir", "site.key")).mode & 0o777).toBe(0o600);
    expect(isLink("certs dir/site.key")).toBe(true);
    expect(isLink("certs dir/site.crt")).toBe(true);
    expect(await appStatus()).toBe("");
  });

  test("mv --untrack takes a tracked file out of the app repo's index and says so", async () => {
    const run = await cf.cli(["config:mv", "README.md", "--untrack", "--dir", cf.node], { cwd: cf.node });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain("git rm --cached");
    expect(isLink("README.md")).toBe(true);
    expect(await appStatus()).toBe("D  README.md\n");
  });
});
