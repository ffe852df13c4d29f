/**
 * Issue 23 in-process (runPass against real git and the fake docker): what the command line cannot
 * reach quickly. A deploy an older protocol cut short (hooksDone and deploying without ids) that is
 * cut short again; the heal's backoff and window read from the pass's own clock; a crash-loop mark
 * that a config deploy of the same commit must lift.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadApp } from "../../src/lib/app/app.ts";
import { readDeploys, readNodeState, updateNodeState } from "../../src/lib/app/state.ts";
import { observeServices } from "../../src/lib/node/observe.ts";
import { runPass } from "../../src/lib/node/pass.ts";
import { createFakeEngine, type FakeEngine } from "../helpers/fake-engine.ts";
import { FAKE_DOCKER_DIR, Fixture, git } from "../helpers/fixture.ts";

let fx: Fixture;
let marks: string;
const saved = { ...process.env };

beforeEach(async () => {
  fx = await Fixture.create();
  marks = join(fx.root, "marks");
  Object.assign(process.env, {
    FAKE_DOCKER_LOG: fx.env.FAKE_DOCKER_LOG,
    PATH: `${FAKE_DOCKER_DIR}:${saved.PATH}`,
    FAKE_DOCKER_ENGINE_DOWN: join(fx.root, "engine-down"),
  });
});
afterEach(async () => {
  process.env = { ...saved };
  await fx[Symbol.asyncDispose]();
});

const app = () => loadApp(fx.node);
const state = () => readNodeState(app().paths.status);
const lines = () => (existsSync(marks) ? readFileSync(marks, "utf8").trim().split("\n") : []);
const mark = (word: string) => ["sh", "-c", `echo ${word} >> '${marks}'`];

describe("hooks of a deploy an older protocol cut short (fake docker)", () => {
  test("hooksDone and deploying without ids, cut short a second time: a step the older protocol finished never runs again", async () => {
    const compose = "services:\n  app:\n    image: busybox\n";
    const json = (hooks: object) =>
      JSON.stringify({
        docker: { project: "old" },
        deploy: { settleSeconds: 0, hooks },
      });
    await fx.push({ "docker-compose.yml": compose, "protocol.json": json({}) });
    expect((await runPass(app(), { command: "test" })).result).toBe("deployed");
    const good = await fx.head();

    const down = join(fx.root, "engine-down");
    const next = await fx.push({
      "protocol.json": json({
        afterUp: [
          { run: mark("one") },
          // The engine stops after the second step: the third (in the service) fails, not the commit's fault.
          { run: ["sh", "-c", `echo two >> '${marks}'; touch '${down}'`] },
          { service: "app", run: ["php", "artisan", "migrate"] },
        ],
      }),
    });
    // An older protocol moved the working copy, ran afterUp[1], and was killed: its records have no ids.
    await git(fx.node, "pull", "--quiet", "--ff-only");
    expect(await fx.head()).toBe(next);
    const path = app().paths.status;
    const old = JSON.parse(readFileSync(path, "utf8"));
    old.deploying = { from: good, to: next, since: new Date().toISOString() };
    old.hooksDone = { to: next, steps: ["afterUp:1"] };
    writeFileSync(path, JSON.stringify(old));

    const first = await runPass(app(), { command: "test" });
    expect(first.result).toBe("error");
    expect(lines()).toEqual(["two"]);

    rmSync(down);
    const second = await runPass(app(), { command: "test" });
    expect(second.result).toBe("deployed");
    // afterUp[1] ran under the older protocol, afterUp[2] in the first pass: neither again.
    expect(lines()).toEqual(["two"]);
    expect(readDeploys(app().paths.deploys).at(-1)).toMatchObject({
      to: next,
      result: "deployed",
    });
  });
});

describe("heal by the pass's clock (fake docker)", () => {
  let engine: FakeEngine;
  const PROJECT = "clock";
  async function deployed(heal: object): Promise<void> {
    await fx.push({
      "docker-compose.yml": "services:\n  web:\n    image: shop:1\n",
      "protocol.json": JSON.stringify({
        docker: { project: PROJECT, updates: "off", heal },
        deploy: { settleSeconds: 0 },
      }),
    });
    engine = createFakeEngine(join(fx.root, "engine.json"));
    Object.assign(process.env, engine.env());
    expect((await runPass(app(), { command: "test" })).result).toBe("deployed");
  }
  const pass = async (at: number) => runPass(app(), { command: "test", clock: () => at });
  const web = async () => (await engine.container(PROJECT, "web"))?.running;

  test("restarts older than windowSeconds no longer count: the service is started again, not marked crash-looping", async () => {
    await deployed({ backoffSeconds: 1, maxRestarts: 2, windowSeconds: 60 });
    const t0 = Date.now();
    await engine.kill(PROJECT, "web");
    expect((await pass(t0)).healed).toEqual(["web"]);
    await engine.kill(PROJECT, "web");
    // The second restart waits 2 × 1 s after the first.
    expect((await pass(t0 + 1_000)).healed).toEqual([]);
    expect(await web()).toBe(false);
    expect((await pass(t0 + 2_500)).healed).toEqual(["web"]);
    await engine.kill(PROJECT, "web");
    // Within the window a third death is a crash loop; 100 s later both restarts are out of it.
    expect((await pass(t0 + 100_000)).healed).toEqual(["web"]);
    expect(state().heal.crashLoop).toBeNull();
    expect(await web()).toBe(true);
  });

  test("a crash-loop mark, then a config deploy of the same commit: deployed, the mark lifted, the service started", async () => {
    await deployed({ backoffSeconds: 1, maxRestarts: 1, windowSeconds: 600 });
    const t0 = Date.now();
    await engine.kill(PROJECT, "web");
    expect((await pass(t0)).healed).toEqual(["web"]);
    await engine.kill(PROJECT, "web");
    expect((await pass(t0 + 5_000)).crashLooping).toEqual(["web"]);
    expect(state().heal.crashLoop).toMatchObject({ services: ["web"] });

    // The linked config changed since the deploy: a config deploy of the same commit.
    updateNodeState(app().paths.status, {
      deployedConfigHash: "sha256-of-the-config-before",
    });
    const outcome = await pass(t0 + 6_000);
    expect(outcome.result).toBe("deployed");
    expect(readDeploys(app().paths.deploys).at(-1)).toMatchObject({
      reason: "config",
      result: "deployed",
    });
    expect(state().heal).toEqual({ restarts: {}, crashLoop: null });
    expect(await web()).toBe(true);
  });
});

describe("a service's own opt-out (fake docker)", () => {
  test("a container labelled protocol.keep-running=false is seen as opted out; the others are not", async () => {
    const container = (id: string, service: string, labels: Record<string, string> = {}) => ({
      Id: id,
      Image: "sha256:x",
      Config: {
        Image: "job:1",
        Labels: { "com.docker.compose.project": app().project, "com.docker.compose.service": service, ...labels },
      },
      State: { Status: "exited", Running: false, ExitCode: 0 },
    });
    process.env.FAKE_DOCKER_CONTAINERS = JSON.stringify([
      container("c1", "job", { "protocol.keep-running": "false" }),
      container("c2", "web"),
    ]);
    const seen = await observeServices(app(), { running: ["job", "web"], completed: [] });
    expect("services" in seen && seen.services).toEqual([
      { service: "job", state: "exited", exitCode: 0, health: null, ids: ["c1"], optOut: true },
      { service: "web", state: "exited", exitCode: 0, health: null, ids: ["c2"] },
    ]);
  });
});

describe("an engine that accepts and never answers (fake docker)", () => {
  test("a pass's look at the containers is given up after PROTOCOL_DOCKER_TIMEOUT: the pass ends, nothing is healed", async () => {
    await fx.push({ "docker-compose.yml": "services:\n  web:\n    image: shop:1\n" });
    await git(fx.node, "pull", "--quiet");
    expect((await runPass(app(), { command: "test" })).result).toBe("deployed");
    Object.assign(process.env, { FAKE_DOCKER_HANG: "ps", PROTOCOL_DOCKER_TIMEOUT: "1" });
    // Bounded here: a pass that waits on the engine for ever fails this assertion, not the test's time-out.
    const hung = Bun.sleep(15_000).then(() => "still waiting on docker ps after 15 s" as const);
    const outcome = await Promise.race([runPass(app(), { command: "test" }), hung]);
    expect(typeof outcome === "string" ? outcome : "the pass ended").toBe("the pass ended");
    if (typeof outcome === "string") return;
    expect(outcome).toMatchObject({ result: "up-to-date", healed: [] });
  }, 30_000);

  test("a compose pull or up that prints nothing is given up after PROTOCOL_COMPOSE_TIMEOUT: the pass ends, saying so", async () => {
    Object.assign(process.env, { FAKE_DOCKER_HANG: "pull", PROTOCOL_COMPOSE_TIMEOUT: "1" });
    const before = (await git(fx.node, "rev-parse", "HEAD")).trim();
    await fx.push({ "docker-compose.yml": "services:\n  web:\n    image: shop:2\n" });
    const hung = Bun.sleep(15_000).then(() => "still waiting on compose after 15 s" as const);
    const pulled = await Promise.race([runPass(app(), { command: "test" }), hung]);
    expect(typeof pulled === "string" ? pulled : "the pass ended").toBe("the pass ended");
    if (typeof pulled === "string") return;
    expect(pulled.result).toBe("error");
    expect(pulled.error).toContain("pull of");
    expect(pulled.error).toContain("in 1s");
    expect((await git(fx.node, "rev-parse", "HEAD")).trim()).toBe(before);

    process.env.FAKE_DOCKER_HANG = "up";
    const upped = await Promise.race([runPass(app(), { command: "test" }), hung]);
    expect(typeof upped === "string" ? upped : "the pass ended").toBe("the pass ended");
    if (typeof upped === "string") return;
    expect(upped.error).toContain("up (nothing printed) got no answer from the docker engine in 1s");
  }, 40_000);
});
