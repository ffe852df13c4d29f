import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliArgv, eventually, FAKE_DOCKER_DIR, Fixture, git } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create({ files: { "docker-compose.yml": "services: {}\n" } })));
afterEach(async () => fx[Symbol.asyncDispose]());

const cli = (args: string[]) => fx.cli(args, { fakeDocker: true });
const status = async () => JSON.parse((await cli(["status", "--dir", fx.node, "--json"])).stdout);

describe("deploy:rollback (fake docker)", () => {
  test("goes back to the previous good deploy, holds it, and start resumes following", async () => {
    const first = await fx.head();
    expect((await cli(["git:pull", "--dir", fx.node])).exitCode).toBe(0);
    const second = await fx.push({ "app.txt": "v2\n" });
    expect((await cli(["git:pull", "--dir", fx.node])).exitCode).toBe(0);

    const rolled = await cli(["deploy:rollback", "--dir", fx.node, "--json"]);
    expect(rolled.exitCode).toBe(0);
    expect(JSON.parse(rolled.stdout)).toMatchObject({ from: second, to: first, paused: true });
    expect(await fx.head()).toBe(first);
    const held = await status();
    expect(held.paused).toMatchObject({ commit: first });
    expect(held.deployedCommit).toBe(first);

    // While held, a sync changes nothing and says why.
    const third = await fx.push({ "app.txt": "v3\n" });
    const pull = await cli(["git:pull", "--dir", fx.node]);
    expect(pull.exitCode).toBe(4);
    expect(pull.stderr).toContain("protocol start");
    expect(await fx.head()).toBe(first);
    expect((await cli(["status", "--dir", fx.node])).stdout).toContain("paused");

    const started = await cli(["start", "--dir", fx.node, "--no-cron", "--interval", "1"]);
    expect(started.exitCode).toBe(0);
    expect(await fx.head()).toBe(third);
    expect((await status()).paused).toBeNull();
    const log = JSON.parse((await cli(["deploy:log", "--dir", fx.node, "--json"])).stdout);
    expect(log.map((d: { reason: string }) => d.reason)).toEqual(["commit", "commit", "rollback", "commit"]);
    const table = (await cli(["deploy:log", "--dir", fx.node])).stdout.split("\n");
    expect(table[0]).toMatch(/^started\s+commits\s+why\s+took\s+result\s+note$/);
    expect(table[3]).toContain(`${second.slice(0, 8)} → ${first.slice(0, 8)}  rollback`);
  });

  test("--to rolls back to a named commit; an unknown one exits 4 and changes nothing", async () => {
    const first = await fx.head();
    await cli(["git:pull", "--dir", fx.node]);
    await fx.push({ "app.txt": "v2\n" });
    await cli(["git:pull", "--dir", fx.node]);
    const third = await fx.push({ "app.txt": "v3\n" });
    await cli(["git:pull", "--dir", fx.node]);

    const unknown = await cli(["deploy:rollback", "--dir", fx.node, "--to", "deadbeef"]);
    expect(unknown.exitCode).toBe(4);
    expect(await fx.head()).toBe(third);

    const rolled = await cli(["deploy:rollback", "--dir", fx.node, "--to", first.slice(0, 10)]);
    expect(rolled.exitCode).toBe(0);
    expect(await fx.head()).toBe(first);
  });

  test("with no earlier good deploy it refuses with a hint", async () => {
    await cli(["git:pull", "--dir", fx.node]);
    const run = await cli(["deploy:rollback", "--dir", fx.node]);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("--to");
  });

  test("takes the app's lock: a rollback asked for while a sync is moving waits for it, then rolls that deploy back", async () => {
    await cli(["git:pull", "--dir", fx.node]);
    const second = await fx.push({ "app.txt": "v2\n" });
    await cli(["git:pull", "--dir", fx.node]);
    const third = await fx.push({ "app.txt": "v3\n" });
    const pull = Bun.spawn([...cliArgv(), "git:pull", "--dir", fx.node], {
      env: {
        ...process.env,
        ...fx.env,
        PATH: `${FAKE_DOCKER_DIR}:${process.env.PATH}`,
        PROTOCOL_TEST_PAUSE_AT: "before-move:1500",
      },
      stdout: "ignore",
      stderr: "pipe",
    });
    let stderr = "";
    const reading = (async () => {
      for await (const chunk of pull.stderr) stderr += new TextDecoder().decode(chunk);
    })();
    expect(await eventually(() => stderr.includes("paused at before-move"), 15_000)).toBe(true);
    const rolled = await cli(["deploy:rollback", "--dir", fx.node, "--json"]);
    expect(await pull.exited).toBe(0);
    await reading;
    expect(rolled.exitCode).toBe(0);
    expect(JSON.parse(rolled.stdout)).toMatchObject({ from: third, to: second });
    expect(await fx.head()).toBe(second);
  });

  test("never drops a commit that exists only on the node: it is kept as a backup ref", async () => {
    await cli(["git:pull", "--dir", fx.node]);
    await fx.push({ "app.txt": "v2\n" });
    await cli(["git:pull", "--dir", fx.node]);
    writeFileSync(join(fx.node, "hotfix.txt"), "made here\n");
    await git(fx.node, "add", "hotfix.txt");
    await git(fx.node, "commit", "--quiet", "-m", "hotfix on the node");
    const local = await fx.head();

    const rolled = await cli(["deploy:rollback", "--dir", fx.node]);
    expect(rolled.exitCode).toBe(0);
    const refs = await git(fx.node, "for-each-ref", "--format=%(objectname)", "refs/protocol/backup/");
    expect(refs.split("\n")).toContain(local);
  });
});
