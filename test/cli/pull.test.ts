import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Fixture, git } from "../helpers/fixture.ts";
import { startGitDaemon } from "../helpers/git-daemon.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

describe("git:pull", () => {
  test("two concurrent git:pull runs: one waits for the other and both succeed", async () => {
    const pushed = await fx.push({ "app.txt": "v2\n" });
    const [a, b] = await Promise.all([fx.cli(["git:pull", "--dir", fx.node]), fx.cli(["git:pull", "--dir", fx.node])]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    expect(await fx.head()).toBe(pushed);
    const deploys = JSON.parse((await fx.cli(["deploy:log", "--dir", fx.node, "--json"])).stdout);
    expect(deploys.map((d: { to: string }) => d.to)).toEqual([pushed]);
  });

  test("--json prints the sync outcome as one document", async () => {
    const pushed = await fx.push({ "app.txt": "v2\n" });
    const run = await fx.cli(["git:pull", "--dir", fx.node, "--json"]);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ result: "deployed", to: pushed, fetched: true });
  });

  test("works from inside the app without --dir, walking up from a subdirectory", async () => {
    const pushed = await fx.push({ "sub/app.txt": "v2\n" });
    await fx.cli(["git:pull", "--dir", fx.node]);
    const more = await fx.push({ "sub/app.txt": "v3\n" });
    expect(more).not.toBe(pushed);
    const run = await fx.cli(["git:pull"], { cwd: join(fx.node, "sub") });
    expect(run.exitCode).toBe(0);
    expect(await fx.head()).toBe(more);
  });

  test("follows a remote served by git daemon on 127.0.0.1", async () => {
    await using daemon = await startGitDaemon(fx.root);
    const node = join(fx.root, "daemon-node");
    await git(fx.root, "clone", "--quiet", daemon.url("remote.git"), node);
    const pushed = await fx.push({ "app.txt": "over git://\n" });
    const run = await fx.cli(["git:pull", "--dir", node, "--json"]);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).result).toBe("deployed");
    expect(await git(node, "rev-parse", "HEAD")).toBe(pushed);
  });
});
