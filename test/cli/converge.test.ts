/**
 * Issue 23 at the command line: the node keeps the deployed commit's containers running. A container
 * that stopped or went is started again by the next pass (git:pull, start, the loop), with backoff and
 * a crash-loop mark; a deploy with no deploy.health passes only when its containers stay up for
 * deploy.settleSeconds. The stateful fake docker (FAKE_DOCKER_STATE) stands for the engine: the tests
 * stop and kill its containers behind protocol's back and script services that die at start.
 * The service is called web, not app as in the spec's examples: "app" is also a word of doctor's
 * and status's own lines, and a line that names the app instead of the service would pass.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  composeVerb,
  createFakeEngine,
  dockerLog,
  type FakeEngine,
  type FakeEngineScript,
  startCalls,
} from "../helpers/fake-engine.ts";
import { eventually, Fixture } from "../helpers/fixture.ts";
import { gone } from "../helpers/processes.ts";

const PROJECT = "conv";
const compose = (image: string) => `services:\n  web:\n    image: ${image}\n`;

let fx: Fixture;
let engine: FakeEngine;
let script: FakeEngineScript = {};
afterEach(async () => fx[Symbol.asyncDispose]());

/**
 * A node whose protocol.json names the compose project and has these keys. settleSeconds is 0 unless a
 * test is about it: its default (10 s) would make every deploy here wait. docker.updates is off: no
 * image here is in a registry, and doctor would ask Docker Hub about shop:1.
 */
async function node(config: { deploy?: object; docker?: object } = {}, run: FakeEngineScript = {}): Promise<void> {
  const protocolJson = {
    docker: { project: PROJECT, updates: "off", ...config.docker },
    deploy: { settleSeconds: 0, ...config.deploy },
  };
  fx = await Fixture.create({
    files: { "docker-compose.yml": compose("shop:1"), "protocol.json": JSON.stringify(protocolJson) },
  });
  engine = createFakeEngine(join(fx.root, "engine.json"));
  script = run;
}

// doctor's docker root check looks at FAKE_DOCKER_ROOT: a directory that exists here.
const cli = (args: string[]) =>
  fx.cli(args, { fakeDocker: true, env: { ...engine.env(script), FAKE_DOCKER_ROOT: fx.root } });
const status = async () => JSON.parse((await cli(["status", "--dir", fx.node, "--json"])).stdout);
const deploys = async () => JSON.parse((await cli(["deploy:log", "--dir", fx.node, "--json"])).stdout) as any[];
const loopLog = async () => (await cli(["logs", "--dir", fx.node, "-n", "1000"])).stdout;
const web = () => engine.container(PROJECT, "web");
/** Deploys' and heals' starts: `compose up` and `docker start`. */
const ups = () => startCalls(fx.env.FAKE_DOCKER_LOG!);
const count = (text: string, needle: string) => text.split("\n").filter((line) => line.includes(needle)).length;

describe("containers converge (fake docker)", () => {
  test("a container stopped behind protocol's back: the next git:pull starts exactly it (docker start), no pull, no up, and says so in one line", async () => {
    await node();
    const first = await cli(["git:pull", "--dir", fx.node]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(await web()).toMatchObject({ running: true, image: "shop:1" });
    await engine.stop(PROJECT, "web");
    const mark = dockerLog(fx.env.FAKE_DOCKER_LOG!).length;

    const pull = await cli(["git:pull", "--dir", fx.node]);
    expect(pull.exitCode, pull.stderr).toBe(0);
    expect(count(pull.stderr, "web was exited (code 0); started it")).toBe(1);
    expect(await web()).toMatchObject({ running: true });
    const calls = dockerLog(fx.env.FAKE_DOCKER_LOG!).slice(mark);
    const verbs = calls.map(composeVerb);
    expect(verbs).not.toContain("up");
    expect(verbs).not.toContain("pull");
    // The very container that stopped, started as it is.
    expect(calls.filter((argv) => argv[0] === "start")).toEqual([["start", (await web())!.id]]);
    expect(await deploys()).toHaveLength(1);
  });

  test("the loop (--interval 1) starts a stopped container again and logs it in one line", async () => {
    await node();
    const started = await cli(["start", "--dir", fx.node, "--no-cron", "--interval", "1"]);
    expect(started.exitCode, started.stderr).toBe(0);
    expect((await web())?.running).toBe(true);
    await engine.stop(PROJECT, "web");
    const healed = await eventually(
      async () => (await web())?.running === true && (await loopLog()).includes("web was exited (code 0); started it"),
      15_000,
      200,
    );
    expect(healed).toBe(true);
    expect(count(await loopLog(), "web was exited (code 0); started it")).toBe(1);
  });

  test("stop --down, then start: the containers are up again (one 'was missing' line, no new deploy)", async () => {
    await node();
    expect((await cli(["start", "--dir", fx.node, "--no-cron"])).exitCode).toBe(0);
    expect((await web())?.running).toBe(true);
    const down = await cli(["stop", "--dir", fx.node, "--down"]);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await engine.containers(PROJECT)).toEqual([]);

    const again = await cli(["start", "--dir", fx.node, "--no-cron"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await web()).toMatchObject({ running: true, image: "shop:1" });
    // Said once, by start's own pass or by the loop it started.
    expect(count(again.stderr + (await loopLog()), "web was missing; started it")).toBe(1);
    expect(await deploys()).toHaveLength(1);
  });

  test("after a reboot (loop killed, containers stopped) protocol restart brings the containers back", async () => {
    await node();
    expect((await cli(["start", "--dir", fx.node, "--no-cron"])).exitCode).toBe(0);
    const { pid } = (await status()).slave;
    process.kill(pid, "SIGKILL");
    expect(await gone(pid)).toBe(true);
    await engine.stop(PROJECT, "web");

    const restarted = await cli(["restart", fx.node]);
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    expect(await eventually(async () => (await web())?.running === true, 10_000)).toBe(true);
  });

  test("a commit whose service crashes at start, with no deploy.health: rolled back, the previous deploy stands", async () => {
    await node({ deploy: { settleSeconds: 1 } }, { crash: { "shop:2": 1 } });
    const good = await fx.head();
    expect((await cli(["git:pull", "--dir", fx.node])).exitCode).toBe(0);
    expect((await deploys()).at(-1)).toMatchObject({ to: good, result: "deployed" });

    const bad = await fx.push({ "docker-compose.yml": compose("shop:2") }, "shop 2 crashes at start");
    await cli(["git:pull", "--dir", fx.node]);
    expect((await deploys()).at(-1)).toMatchObject({ to: bad, result: "rolled-back", rolledBackTo: good });
    const now = await status();
    expect(now.deployedCommit).toBe(good);
    expect(now.quarantine).toMatchObject({ commit: bad });
    expect(await fx.head()).toBe(good);
    expect(await web()).toMatchObject({ running: true, image: "shop:1" });
  });

  test("settleSeconds: a container that dies within the window fails the deploy; a one-shot that exits 0 is completed", async () => {
    const oneShot = "  migrate:\n    image: migrate:1\n";
    await node({ deploy: { settleSeconds: 1 } }, { crash: { "migrate:1": 0, "shop:2": "1@0.4" } });
    const good = await fx.push({ "docker-compose.yml": compose("shop:1") + oneShot }, "with a one-shot");
    const first = await cli(["git:pull", "--dir", fx.node]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect((await deploys()).at(-1)).toMatchObject({ to: good, result: "deployed" });

    // Up and running when up returns, dead 0.4 s later: only a gate that waits sees it.
    const bad = await fx.push({ "docker-compose.yml": compose("shop:2") + oneShot }, "shop 2 dies after 0.4 s");
    await cli(["git:pull", "--dir", fx.node]);
    expect((await deploys()).at(-1)).toMatchObject({ to: bad, result: "rolled-back", rolledBackTo: good });
    expect((await status()).deployedCommit).toBe(good);
  });

  test("crash-looping: after maxRestarts restarts the next death marks it, it is left alone, and start heals again", async () => {
    const heal = { backoffSeconds: 1, maxRestarts: 2, windowSeconds: 600 };
    // Up for 3 s each time: longer than the settle gate (1 s), so the deploy passes and the deaths follow.
    await node({ deploy: { settleSeconds: 1 }, docker: { heal } }, { crash: { web: "1@3" } });
    // With its @reboot line, so that doctor has nothing else to complain about.
    const started = await cli(["start", "--dir", fx.node, "--interval", "1"]);
    expect(started.exitCode, started.stderr).toBe(0);
    expect((await deploys()).at(-1)).toMatchObject({ result: "deployed" });

    const marked = await eventually(
      async () => (await status()).heal?.crashLoop?.services?.includes("web"),
      30_000,
      250,
    );
    expect(marked).toBe(true);
    // The deploy's up and two restarts.
    const upsAtMark = ups();
    expect(upsAtMark).toBe(3);
    const looping = await status();
    expect(looping.heal).toMatchObject({ restarts: 2, crashLoop: { services: ["web"], since: expect.any(String) } });
    expect(await loopLog()).toMatch(
      /web is crash-looping: restarted 2 times in [\d.]+ ?s; left alone until the next commit, image or protocol start/,
    );
    expect((await cli(["status", "--dir", fx.node])).stdout).toContain("crash-looping");
    const doctor = await cli(["doctor", "--dir", fx.node]);
    expect(doctor.exitCode).not.toBe(0);
    const failed = doctor.stdout.split("\n").filter((line) => line.startsWith("✖"));
    expect(
      failed.some((line) => /\bweb\b/.test(line)),
      doctor.stdout,
    ).toBe(true);

    // Left alone: a third restart would come backoffSeconds * 2^2 = 4 s after the second (the dead
    // container's StartedAt), at the latest on the poll after that (--interval 1): watch until then.
    const dead = (await web())!;
    expect(dead.running).toBe(false);
    const due = Date.parse(dead.startedAt) + 4_000 + 1_500;
    expect(await eventually(() => ups() > upsAtMark, Math.max(0, due - Date.now()), 250)).toBe(false);

    const again = await cli(["start", "--dir", fx.node, "--no-cron", "--interval", "1"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect((await status()).heal.crashLoop).toBeNull();
    expect(ups()).toBeGreaterThan(upsAtMark);
  }, 60_000);

  test("docker.keepRunning false: a container stopped behind protocol's back stays stopped, and doctor says so", async () => {
    await node({ docker: { keepRunning: false } });
    expect((await cli(["git:pull", "--dir", fx.node])).exitCode).toBe(0);
    expect((await cli(["cron:add", "--dir", fx.node])).exitCode).toBe(0);
    expect((await cli(["doctor", "--dir", fx.node])).exitCode).toBe(0);
    await engine.stop(PROJECT, "web");
    const upsBefore = ups();
    for (let pass = 0; pass < 2; pass++) {
      const pull = await cli(["git:pull", "--dir", fx.node]);
      expect(pull.exitCode, pull.stderr).toBe(0);
      expect(pull.stderr).not.toContain("started it");
    }
    expect(await web()).toMatchObject({ running: false, exitCode: 0 });
    expect(ups()).toBe(upsBefore);
    expect((await status()).heal).toEqual({ restarts: 0, nextRestartAt: null, crashLoop: null });
    // Not restarted, but not hidden either: a service of the deployed commit that is not running.
    const doctor = await cli(["doctor", "--dir", fx.node]);
    expect(doctor.exitCode).not.toBe(0);
    expect(
      doctor.stdout.split("\n").some((line) => line.startsWith("✖") && /\bweb\b/.test(line)),
      doctor.stdout,
    ).toBe(true);
  });

  test("a held node (deploy:rollback pauses it) still heals: the hold blocks commits, not the containers", async () => {
    await node();
    const first = await fx.head();
    expect((await cli(["git:pull", "--dir", fx.node])).exitCode).toBe(0);
    await fx.push({ "app.txt": "v2\n" });
    expect((await cli(["git:pull", "--dir", fx.node])).exitCode).toBe(0);
    const rolled = await cli(["deploy:rollback", "--dir", fx.node]);
    expect(rolled.exitCode, rolled.stderr).toBe(0);
    expect((await status()).paused).toMatchObject({ commit: first });

    await engine.kill(PROJECT, "web");
    const pull = await cli(["git:pull", "--dir", fx.node]);
    expect(count(pull.stderr, "web was exited (code 137); started it")).toBe(1);
    expect((await web())?.running).toBe(true);
    expect(await fx.head()).toBe(first);
    expect((await status()).paused).toMatchObject({ commit: first });
  });

  test("a heal runs no deploy hooks and adds no deploy:log record", async () => {
    const hooksLog = join("..", "hooks.log");
    const hook = (point: string) => [{ run: ["sh", "-c", `echo ${point} >> '${hooksLog}'`] }];
    await node({ deploy: { hooks: { afterUp: hook("afterUp"), afterHealthy: hook("afterHealthy") } } });
    const ran = () => {
      const file = join(fx.root, "hooks.log");
      return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n") : [];
    };
    const first = await cli(["git:pull", "--dir", fx.node]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(ran()).toEqual(["afterUp", "afterHealthy"]);
    expect(await deploys()).toHaveLength(1);

    await engine.kill(PROJECT, "web");
    const pull = await cli(["git:pull", "--dir", fx.node]);
    expect(pull.exitCode, pull.stderr).toBe(0);
    expect(count(pull.stderr, "web was exited (code 137); started it")).toBe(1);
    expect((await web())?.running).toBe(true);
    expect(ran()).toEqual(["afterUp", "afterHealthy"]);
    expect(await deploys()).toHaveLength(1);
  });
});
