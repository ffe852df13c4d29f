import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { eventually, Fixture, git, sh } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

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
    const port = await freePort();
    const pidFile = join(fx.root, "daemon.pid");
    const started = await sh([
      "git",
      "daemon",
      `--base-path=${fx.root}`,
      "--export-all",
      "--reuseaddr",
      "--listen=127.0.0.1",
      `--port=${port}`,
      `--pid-file=${pidFile}`,
      "--detach",
      fx.root,
    ]);
    expect(started.exitCode).toBe(0);
    // --detach returns before the daemon has written its pid file.
    expect(await eventually(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "", 5_000)).toBe(
      true,
    );
    const daemonPid = Number(readFileSync(pidFile, "utf8"));
    try {
      const node = join(fx.root, "daemon-node");
      for (let i = 0; i < 50; i++) {
        if ((await sh(["git", "clone", "--quiet", `git://127.0.0.1:${port}/remote.git`, node])).exitCode === 0) break;
        await Bun.sleep(100);
      }
      const pushed = await fx.push({ "app.txt": "over git://\n" });
      const run = await fx.cli(["git:pull", "--dir", node, "--json"]);
      expect(run.exitCode).toBe(0);
      expect(JSON.parse(run.stdout).result).toBe("deployed");
      expect(await git(node, "rev-parse", "HEAD")).toBe(pushed);
    } finally {
      process.kill(daemonPid, "SIGTERM");
    }
  });
});
