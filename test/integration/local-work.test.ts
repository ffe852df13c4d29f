/**
 * Issue 10, "node-local files are work too" and "follow the remote's own history": real git, a
 * bare remote, a seed clone that pushes (and force-pushes) and a node clone.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Fixture, git } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => {
  fx = await Fixture.create({ files: { ".gitignore": ".env\n" } });
});
afterEach(async () => fx[Symbol.asyncDispose]());

const pull = (...flags: string[]) => fx.cli(["git:pull", "--dir", fx.node, "--json", ...flags]);
const read = (path: string) => readFileSync(join(fx.node, path), "utf8");

describe("node-local files are work too", () => {
  test("a git-ignored .env is not overwritten when the remote starts tracking .env: refused, named, nothing moves", async () => {
    writeFileSync(join(fx.node, ".env"), "SECRET=node\n");
    const before = await fx.head();
    await fx.push({ ".gitignore": "", ".env": "SECRET=repo\n" }, "track .env");

    const run = await pull();
    expect(run.exitCode).toBe(4);
    expect(JSON.parse(run.stdout)).toMatchObject({ result: "dirty" });
    expect(JSON.parse(run.stdout).error).toContain(".env");
    expect(run.stderr).toContain("--on-dirty=stash");
    expect(read(".env")).toBe("SECRET=node\n");
    expect(await fx.head()).toBe(before);
  });

  test("--on-dirty=stash keeps them in the state dir's backups, named, and goes on", async () => {
    writeFileSync(join(fx.node, ".env"), "SECRET=node\n");
    mkdirSync(join(fx.node, "conf"));
    writeFileSync(join(fx.node, "conf", "local.ini"), "mine\n");
    const pushed = await fx.push({ ".gitignore": "", ".env": "SECRET=repo\n", "conf/local.ini": "theirs\n" });

    const run = await pull("--on-dirty=stash");
    expect(run.exitCode).toBe(0);
    const outcome = JSON.parse(run.stdout);
    expect(outcome.result).toBe("deployed");
    expect(await fx.head()).toBe(pushed);
    expect(read(".env")).toBe("SECRET=repo\n");
    const backups = outcome.keptAs as string;
    expect(backups).toStartWith(join(fx.env.PROTOCOL_HOME!, "apps"));
    expect(readFileSync(join(backups, ".env"), "utf8")).toBe("SECRET=node\n");
    expect(readFileSync(join(backups, "conf", "local.ini"), "utf8")).toBe("mine\n");
    expect(run.stderr).toContain(`moved aside to ${backups}`);
  });

  test("a node-local file where the commit needs a directory is in the way too", async () => {
    writeFileSync(join(fx.node, "conf"), "a file, not a dir\n");
    await fx.push({ "conf/app.ini": "x\n" });
    const run = await pull();
    expect(run.exitCode).toBe(4);
    expect(JSON.parse(run.stdout).error).toContain("conf");
    expect(read("conf")).toBe("a file, not a dir\n");
  });

  test("--on-diverged=reset never overwrites an untracked file: refused unless --on-dirty=stash keeps it", async () => {
    writeFileSync(join(fx.node, "local.txt"), "node commit\n");
    await git(fx.node, "add", "local.txt");
    await git(fx.node, "commit", "--quiet", "-m", "made on the node");
    writeFileSync(join(fx.node, "notes.txt"), "mine\n");
    const pushed = await fx.push({ "notes.txt": "theirs\n" });

    const refused = await pull("--on-diverged=reset");
    expect(refused.exitCode).toBe(4);
    expect(JSON.parse(refused.stdout).error).toContain("notes.txt");
    expect(read("notes.txt")).toBe("mine\n");

    const run = await pull("--on-diverged=reset", "--on-dirty=stash");
    expect(run.exitCode).toBe(0);
    expect(await fx.head()).toBe(pushed);
    const kept = JSON.parse(run.stdout).keptAs as string;
    expect(kept).toContain("refs/protocol/backup/");
    const backups = kept.split(", ").find((entry) => entry.startsWith("/"))!;
    expect(readFileSync(join(backups, "notes.txt"), "utf8")).toBe("mine\n");
  });
});

describe("follow the remote's own history", () => {
  const deployLog = async () => JSON.parse((await fx.cli(["deploy:log", "--dir", fx.node, "--json"])).stdout);

  test("a rollback by force-push (rewind) is followed, the old commit kept as a backup ref, reason rewind", async () => {
    const good = await fx.head(fx.seed);
    const bad = await fx.push({ "app.txt": "bad\n" }, "bad");
    expect((await pull()).exitCode).toBe(0);
    expect(await fx.head()).toBe(bad);
    await git(fx.seed, "reset", "--hard", "--quiet", "HEAD~1");
    await git(fx.seed, "push", "--quiet", "--force", "origin", "HEAD:main");

    const run = await pull();
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).result).toBe("deployed");
    expect(await fx.head()).toBe(good);
    const refs = await git(fx.node, "for-each-ref", "--format=%(refname) %(objectname)", "refs/protocol/backup/");
    expect(refs).toMatch(new RegExp(`^refs/protocol/backup/rewind-\\S+ ${bad}$`));
    expect((await deployLog()).at(-1)).toMatchObject({ from: bad, to: good, result: "deployed", reason: "rewind" });
  });

  test("a rewritten branch (force-push of other commits) is followed, reason rewrite", async () => {
    const old = await fx.push({ "app.txt": "v1\n" }, "v1");
    expect((await pull()).exitCode).toBe(0);
    await git(fx.seed, "reset", "--hard", "--quiet", "HEAD~1");
    writeFileSync(join(fx.seed, "app.txt"), "v1, amended\n");
    await git(fx.seed, "add", "app.txt");
    await git(fx.seed, "commit", "--quiet", "-m", "v1 again");
    await git(fx.seed, "push", "--quiet", "--force", "origin", "HEAD:main");
    const rewritten = await fx.head(fx.seed);

    const run = await pull();
    expect(run.exitCode).toBe(0);
    expect(await fx.head()).toBe(rewritten);
    expect(read("app.txt")).toBe("v1, amended\n");
    expect((await deployLog()).at(-1)).toMatchObject({ from: old, to: rewritten, reason: "rewrite" });
  });

  test("a commit made on the node is still refused when the remote rewinds: only protocol's own deploys are followed", async () => {
    await fx.push({ "app.txt": "v1\n" }, "v1");
    expect((await pull()).exitCode).toBe(0);
    writeFileSync(join(fx.node, "hotfix.txt"), "made here\n");
    await git(fx.node, "add", "hotfix.txt");
    await git(fx.node, "commit", "--quiet", "-m", "hotfix on the node");
    const local = await fx.head();
    await git(fx.seed, "reset", "--hard", "--quiet", "HEAD~1");
    await git(fx.seed, "push", "--quiet", "--force", "origin", "HEAD:main");

    const run = await pull();
    expect(run.exitCode).toBe(4);
    expect(["ahead", "diverged"]).toContain(JSON.parse(run.stdout).result);
    expect(await fx.head()).toBe(local);
  });
});
