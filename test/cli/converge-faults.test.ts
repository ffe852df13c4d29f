/**
 * Issue 23, trying to break the reconcile loop at the command line: kill -9 in a heal and in the
 * settle gate, an engine that is down while a pass looks or heals, a remote that cannot be asked or
 * fetched from while a container is stopped, a crash-loop mark beside a healthy service, a service
 * scaled to two containers, one-shots, containers the engine itself restarts, state files that are
 * garbage or an older protocol's, concurrent passes, and the one loop's two parts. The stateful
 * fake docker (FAKE_DOCKER_STATE) stands for the engine; the tests change its state file to put
 * containers in states the fake's verbs cannot (restarting, unhealthy, a second replica).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigFixture } from "../helpers/config-fixture.ts";
import {
  composeVerb,
  createFakeEngine,
  dockerLog,
  type FakeEngine,
  type FakeEngineScript,
} from "../helpers/fake-engine.ts";
import { cliArgv, eventually, FAKE_DOCKER_DIR, Fixture, git } from "../helpers/fixture.ts";
import { gone } from "../helpers/processes.ts";

const PROJECT = "faults";
const TWO = "services:\n  web:\n    image: shop:1\n  worker:\n    image: work:1\n";
const ONE = "services:\n  web:\n    image: shop:1\n";

let fx: Fixture;
let cf: ConfigFixture | null = null;
let engine: FakeEngine;
let script: FakeEngineScript = {};
afterEach(async () => {
  if (cf) await cf[Symbol.asyncDispose]();
  else await fx[Symbol.asyncDispose]();
  cf = null;
});

function protocolJson(config: { deploy?: object; docker?: object } = {}): string {
  // settleSeconds 0 unless a test is about the gate; updates off: no image here is in a registry.
  return JSON.stringify({
    docker: { project: PROJECT, updates: "off", ...config.docker },
    deploy: { settleSeconds: 0, ...config.deploy },
  });
}

async function node(
  config: {
    deploy?: object;
    docker?: object;
    compose?: string;
    files?: Record<string, string>;
  } = {},
  run: FakeEngineScript = {},
): Promise<void> {
  fx = await Fixture.create({
    files: {
      "docker-compose.yml": config.compose ?? ONE,
      "protocol.json": protocolJson(config),
      ...config.files,
    },
  });
  engine = createFakeEngine(join(fx.root, "engine.json"));
  script = run;
}

const env = (extra: Record<string, string> = {}) => ({
  ...engine.env(script),
  FAKE_DOCKER_ROOT: fx.root,
  FAKE_DOCKER_ENGINE_DOWN: join(fx.root, "engine-down"),
  ...extra,
});
const cli = (args: string[], extra: Record<string, string> = {}) => fx.cli(args, { fakeDocker: true, env: env(extra) });
const pull = (extra: Record<string, string> = {}) => cli(["git:pull", "--dir", fx.node], extra);
const status = async () => JSON.parse((await cli(["status", "--dir", fx.node, "--json"])).stdout);
const deploys = async () => JSON.parse((await cli(["deploy:log", "--dir", fx.node, "--json"])).stdout) as any[];
const loopLog = async () => (await cli(["logs", "--dir", fx.node, "-n", "1000"])).stdout;
const container = (service: string) => engine.container(PROJECT, service);
const running = async (service: string) => (await container(service))?.running === true;
/** Every start of containers: `compose up` (deploys, missing services) and `docker start` (heals). */
const ups = () =>
  dockerLog(fx.env.FAKE_DOCKER_LOG!).filter((argv) => composeVerb(argv) === "up" || argv[0] === "start");
const count = (text: string, needle: string) => text.split("\n").filter((line) => line.includes(needle)).length;

/** The node's state file (status.json), as protocol reads and writes it. */
async function statePath(): Promise<string> {
  return join((await status()).stateDir, "status.json");
}
async function editState(edit: (state: any) => void): Promise<void> {
  const path = await statePath();
  const state = JSON.parse(readFileSync(path, "utf8"));
  edit(state);
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`);
}

/** Change the fake engine's containers directly: states its verbs cannot make (restarting, a second replica). */
function editEngine(edit: (state: { containers: any[]; crashes: Record<string, any> }) => void): void {
  const state = JSON.parse(readFileSync(engine.statePath, "utf8"));
  edit(state);
  writeFileSync(engine.statePath, `${JSON.stringify(state, null, 2)}\n`);
}

/** A crash-loop mark on `services` of the deployed commit, as recordCrashLoop writes it. */
async function markCrashLoop(services: string[]): Promise<void> {
  const commit = (await status()).deployedCommit;
  await editState((state) => {
    state.heal = {
      restarts: [Date.now() - 5_000, Date.now() - 4_000],
      crashLoop: {
        services,
        since: new Date().toISOString(),
        commit,
        restarts: 2,
      },
    };
  });
}

/** protocol in its own process group (setsid), so kill -9 of the group takes its docker child too, as a power cut would. */
function spawnGroup(args: string[], extra: Record<string, string> = {}) {
  return Bun.spawn(["setsid", ...cliArgv(), ...args], {
    cwd: fx.root,
    env: {
      ...process.env,
      ...fx.env,
      PATH: `${FAKE_DOCKER_DIR}:${process.env.PATH}`,
      ...env(extra),
    },
    stdout: "pipe",
    stderr: "pipe",
  });
}

async function killGroup(pid: number): Promise<void> {
  process.kill(-pid, "SIGKILL");
  expect(await gone(pid)).toBe(true);
}

describe("heal faults (fake docker)", () => {
  test("a new commit whose images cannot be pulled: the stopped container of the deployed commit is still started (fake docker)", async () => {
    await node();
    expect((await pull()).exitCode).toBe(0);
    await engine.stop(PROJECT, "web");
    await fx.push(
      { "docker-compose.yml": "services:\n  web:\n    image: shop:2\n" },
      "shop 2, not in the registry yet",
    );

    const failed = await pull({
      FAKE_DOCKER_FAIL: "pull",
      FAKE_DOCKER_STDERR: "manifest for shop:2 not found",
    });
    expect(failed.exitCode).not.toBe(0);
    // The new commit waits for its images; the current one's containers must not wait with it.
    expect(await running("web")).toBe(true);
    expect(count(failed.stderr, "web was exited (code 0); started it")).toBe(1);
  });

  test("a fetch that fails (the remote answers ls-remote, not the fetch) while a container is stopped: it is still started (fake docker)", async () => {
    await node();
    expect((await pull()).exitCode).toBe(0);
    await engine.stop(PROJECT, "web");
    const next = await fx.push({ "app.txt": "v2\n" }, "v2");
    // The remote's ref names a commit whose object it cannot send: ls-remote works, the fetch fails.
    rmSync(join(fx.remote, "objects", next.slice(0, 2), next.slice(2)));

    const failed = await pull();
    expect(failed.exitCode).not.toBe(0);
    expect(await running("web")).toBe(true);
  });

  test("the remote is unreachable while a container is stopped: git:pull still starts it (fake docker)", async () => {
    await node();
    expect((await pull()).exitCode).toBe(0);
    await engine.kill(PROJECT, "web");
    renameSync(fx.remote, `${fx.remote}.gone`);
    const failed = await pull();
    renameSync(`${fx.remote}.gone`, fx.remote);
    expect(failed.exitCode).not.toBe(0);
    expect(count(failed.stderr, "web was exited (code 137); started it")).toBe(1);
    expect(await running("web")).toBe(true);
  });

  test("a node with a local commit (refused: ahead) still starts the deployed commit's stopped container (fake docker)", async () => {
    await node();
    expect((await pull()).exitCode).toBe(0);
    await git(fx.node, "commit", "--quiet", "--allow-empty", "-m", "a hotfix made on the server");
    await engine.stop(PROJECT, "web");
    const refused = await pull();
    expect(refused.exitCode).not.toBe(0);
    expect((await status()).lastSync.result).toBe("ahead");
    expect(await running("web")).toBe(true);
  });

  test("a heal starts only the services that are down: a one-shot that finished at the deploy is not run again (fake docker)", async () => {
    const compose = `${ONE}  migrate:\n    image: migrate:1\n`;
    await node({ compose }, { crash: { "migrate:1": 0 } });
    expect((await pull()).exitCode).toBe(0);
    const migrated = (await container("migrate"))!;
    expect(migrated).toMatchObject({ running: false, exitCode: 0 });

    // Later passes leave the finished one-shot alone, and do not call it down.
    expect((await pull()).stderr).not.toContain("started it");
    expect((await status()).down).toEqual([]);

    await engine.kill(PROJECT, "web");
    const healed = await pull();
    expect(count(healed.stderr, "web was exited (code 137); started it")).toBe(1);
    expect(await running("web")).toBe(true);
    // The migration must not run again because web died: its container was not started again.
    expect((await container("migrate"))?.startedAt).toBe(migrated.startedAt);
  });

  test("a service scaled to 2 containers, one dies: the next pass starts it and leaves the other alone (fake docker)", async () => {
    await node();
    expect((await pull()).exitCode).toBe(0);
    // A second replica beside the first, running.
    editEngine((state) => {
      const first = state.containers[0];
      const second = structuredClone(first);
      second.Id = first.Id.replace(/^.{8}/, "00000002");
      second.Name = `/${PROJECT}-web-2`;
      second.State.StartedAt = new Date(Date.now() - 60_000).toISOString();
      state.containers.push(second);
    });
    const other = (await engine.containers(PROJECT)).find((c) => c.name.endsWith("-2"))!;
    await engine.docker(["kill", (await engine.containers(PROJECT)).find((c) => c.name.endsWith("-1"))!.id]);

    const healed = await pull();
    expect(count(healed.stderr, "web was exited (code 137); started it")).toBe(1);
    const both = await engine.containers(PROJECT);
    expect(both.map((c) => c.running)).toEqual([true, true]);
    expect(both.find((c) => c.name.endsWith("-2"))?.startedAt).toBe(other.startedAt);
    expect(await deploys()).toHaveLength(1);
  });

  test("a replica that exits 0 in the settle gate does not make a long-running service a finished one-shot (fake docker)", async () => {
    await node({ deploy: { settleSeconds: 1 } });
    expect((await pull()).exitCode).toBe(0);
    // A second replica that just started and stops (exit 0) 0.3 s later, within the next deploy's gate.
    editEngine((state) => {
      const first = state.containers[0];
      const second = structuredClone(first);
      second.Id = first.Id.replace(/^.{8}/, "00000002");
      second.Name = `/${PROJECT}-web-2`;
      second.State.StartedAt = new Date().toISOString();
      state.containers.push(second);
      state.crashes[second.Id] = {
        at: new Date(Date.now() + 300).toISOString(),
        code: 0,
      };
    });
    const next = await fx.push({ "app.txt": "v2\n" }, "v2, same images");
    expect((await pull()).exitCode).toBe(0);
    expect((await deploys()).at(-1)).toMatchObject({
      to: next,
      result: "deployed",
    });
    // One replica still runs: web is not a one-shot that finished.
    expect(JSON.parse(readFileSync(await statePath(), "utf8")).services.completed).not.toContain("web");

    // web is a server: when its (first) container dies, it must be started again.
    await engine.kill(PROJECT, "web");
    const healed = await pull();
    expect(healed.stderr).toContain("web was exited (code 137); started it");
    expect((await engine.containers(PROJECT)).find((c) => c.name.endsWith("-1"))?.running).toBe(true);
  });

  test("a restarting container is left to the engine and an unhealthy running one is not restarted; doctor marks each (fake docker)", async () => {
    await node();
    expect((await pull()).exitCode).toBe(0);
    expect((await cli(["cron:add", "--dir", fx.node])).exitCode).toBe(0);
    const before = ups().length;
    editEngine((state) => {
      Object.assign(state.containers[0].State, {
        Status: "restarting",
        Restarting: true,
        Running: true,
      });
    });
    expect((await pull()).stderr).not.toContain("started it");
    const restarting = await cli(["doctor", "--dir", fx.node]);
    expect(restarting.exitCode).not.toBe(0);
    expect(
      restarting.stdout.split("\n").some((l) => l.startsWith("✖") && /\bweb\b/.test(l)),
      restarting.stdout,
    ).toBe(true);

    editEngine((state) => {
      Object.assign(state.containers[0].State, {
        Status: "running",
        Restarting: false,
        Running: true,
        Health: { Status: "unhealthy", FailingStreak: 3, Log: [] },
      });
    });
    expect((await pull()).stderr).not.toContain("started it");
    expect(ups().length).toBe(before);
    const unhealthy = await cli(["doctor", "--dir", fx.node]);
    expect(unhealthy.exitCode).not.toBe(0);
    expect(unhealthy.stdout).toMatch(/✖.*unhealthy: web/);
  });
});

describe("crash-looping (fake docker)", () => {
  test("restarts are counted per service: a service that never died is not marked crash-looping for another's restarts (fake docker)", async () => {
    await node({
      compose: TWO,
      docker: {
        heal: { backoffSeconds: 1, maxRestarts: 1, windowSeconds: 600 },
      },
    });
    expect((await pull()).exitCode).toBe(0);
    await engine.kill(PROJECT, "web");
    expect(count((await pull()).stderr, "web was exited (code 137); started it")).toBe(1);

    // worker dies for the first time: its first restart is due at once.
    await engine.kill(PROJECT, "worker");
    const second = await pull();
    expect(second.stderr).not.toContain("crash-looping");
    expect((await status()).heal.crashLoop).toBeNull();
    expect(await running("worker")).toBe(true);
  });

  test("a crash-loop mark on one service does not stop the heal of another (fake docker)", async () => {
    await node({ compose: TWO });
    expect((await pull()).exitCode).toBe(0);
    await markCrashLoop(["web"]);
    await engine.kill(PROJECT, "web");
    await engine.kill(PROJECT, "worker");

    const polled = await pull();
    expect(polled.exitCode, polled.stderr).toBe(0);
    // web is left alone until a new commit or start; worker never crash-looped.
    expect(await running("web")).toBe(false);
    expect(await running("worker")).toBe(true);
    expect((await status()).heal.crashLoop).toMatchObject({
      services: ["web"],
    });
  });

  test("after a reboot with a crash-loop mark, protocol restart keeps the mark and still brings the other services back (fake docker)", async () => {
    await node({ compose: TWO });
    expect((await cli(["start", "--dir", fx.node, "--no-cron", "--interval", "1"])).exitCode).toBe(0);
    const { pid } = (await status()).slave;
    process.kill(pid, "SIGKILL");
    expect(await gone(pid)).toBe(true);
    await markCrashLoop(["web"]);
    await engine.stop(PROJECT, "web");
    await engine.stop(PROJECT, "worker");

    const restarted = await cli(["restart", fx.node]);
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    expect((await status()).heal.crashLoop).toMatchObject({
      services: ["web"],
    });
    expect(await eventually(() => running("worker"), 3_000)).toBe(true);
    expect(await running("web")).toBe(false);
  });

  test("a crash-loop mark: protocol restart keeps it and leaves the service alone; protocol start clears it and starts it (fake docker)", async () => {
    await node();
    expect((await cli(["start", "--dir", fx.node, "--no-cron", "--interval", "1"])).exitCode).toBe(0);
    const { pid } = (await status()).slave;
    process.kill(pid, "SIGKILL");
    expect(await gone(pid)).toBe(true);
    await markCrashLoop(["web"]);
    await engine.kill(PROJECT, "web");

    const restarted = await cli(["restart", fx.node]);
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    expect(restarted.stderr).not.toContain("started it");
    // Two polls of the restarted loop (--interval 1) leave it alone too.
    await Bun.sleep(2_200);
    expect(await running("web")).toBe(false);
    expect((await status()).heal.crashLoop).toMatchObject({
      services: ["web"],
    });

    const started = await cli(["start", "--dir", fx.node, "--no-cron", "--interval", "1"]);
    expect(started.exitCode, started.stderr).toBe(0);
    expect(await running("web")).toBe(true);
    expect((await status()).heal.crashLoop).toBeNull();
    expect(await deploys()).toHaveLength(1);
  });

  test("a crash-loop mark, then a new commit: it is deployed and the mark and the restart count are cleared (fake docker)", async () => {
    await node();
    expect((await pull()).exitCode).toBe(0);
    await markCrashLoop(["web"]);
    await engine.kill(PROJECT, "web");
    expect((await pull()).stderr).not.toContain("started it");

    const next = await fx.push({ "app.txt": "the fix\n" }, "the fix");
    const deployed = await pull();
    expect(deployed.exitCode, deployed.stderr).toBe(0);
    expect((await deploys()).at(-1)).toMatchObject({
      to: next,
      result: "deployed",
    });
    expect(await running("web")).toBe(true);
    expect((await status()).heal).toEqual({
      restarts: 0,
      nextRestartAt: null,
      crashLoop: null,
    });
  });
});

describe("kill -9 and a stopped engine (fake docker)", () => {
  test("kill -9 during a heal: the next git:pull recovers the lock, starts the container, and records no deploy (fake docker)", async () => {
    await node();
    expect((await pull()).exitCode).toBe(0);
    await engine.stop(PROJECT, "web");
    const before = ups().length;
    const child = spawnGroup(["git:pull", "--dir", fx.node], {
      FAKE_DOCKER_START_SLEEP_MS: "5000",
    });
    expect(await eventually(() => ups().length > before, 10_000, 50)).toBe(true);
    await killGroup(child.pid);
    expect(await running("web")).toBe(false);

    const again = await pull();
    expect(again.exitCode, again.stderr).toBe(0);
    expect(count(again.stderr, "web was exited (code 0); started it")).toBe(1);
    expect(await running("web")).toBe(true);
    expect(await deploys()).toHaveLength(1);
  });

  test("kill -9 in the settle gate (a HEALTHCHECK still starting): the next pass finishes the same deploy without running afterUp again (fake docker)", async () => {
    const marks = join("..", "hooks.log");
    const hook = (point: string) => [{ run: ["sh", "-c", `echo "${point} $PROTOCOL_TO" >> '${marks}'`] }];
    const hooks = {
      afterUp: hook("afterUp"),
      afterHealthy: hook("afterHealthy"),
    };
    await node({ deploy: { settleSeconds: 1, hooks } }, { health: { "shop:2": "starting" } });
    const ran = () => {
      const file = join(fx.root, "hooks.log");
      return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n") : [];
    };
    expect((await pull()).exitCode).toBe(0);
    const next = await fx.push({ "docker-compose.yml": "services:\n  web:\n    image: shop:2\n" }, "shop 2");

    const child = spawnGroup(["git:pull", "--dir", fx.node]);
    // In the gate: afterUp ran, web's healthcheck is starting.
    expect(await eventually(() => ran().includes(`afterUp ${next}`), 15_000, 50)).toBe(true);
    await Bun.sleep(1_500);
    await killGroup(child.pid);
    expect((await status()).interruptedDeploy).toMatchObject({ to: next });
    expect(await deploys()).toHaveLength(1);

    // The healthcheck passes now; the next pass resumes the deploy under its id.
    editEngine((state) => {
      for (const c of state.containers) if (c.Config.Image === "shop:2") c.State.Health.Status = "healthy";
    });
    const resumed = await pull();
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(ran().filter((line) => line === `afterUp ${next}`)).toHaveLength(1);
    expect(ran().filter((line) => line === `afterHealthy ${next}`)).toHaveLength(1);
    const records = (await deploys()).filter((record) => record.to === next);
    expect(records).toEqual([expect.objectContaining({ result: "deployed" })]);
    expect((await status()).deploying).toBeNull();
  });

  test("the engine is down while a pass looks: nothing is counted; once it is back the container is started at once (fake docker)", async () => {
    await node({
      docker: {
        heal: { backoffSeconds: 60, maxRestarts: 5, windowSeconds: 600 },
      },
    });
    expect((await pull()).exitCode).toBe(0);
    await engine.kill(PROJECT, "web");
    writeFileSync(join(fx.root, "engine-down"), "");
    const before = ups().length;
    await pull();
    await pull();
    expect(ups().length).toBe(before);
    expect((await status()).heal.restarts).toBe(0);

    rmSync(join(fx.root, "engine-down"));
    const back = await pull();
    expect(back.exitCode, back.stderr).toBe(0);
    expect(count(back.stderr, "web was exited (code 137); started it")).toBe(1);
    expect(await running("web")).toBe(true);
  });

  test("the engine fails the heal's start: the pass warns, counts the restart, and starts the container after the backoff (fake docker)", async () => {
    await node({
      docker: {
        heal: { backoffSeconds: 1, maxRestarts: 5, windowSeconds: 600 },
      },
    });
    expect((await pull()).exitCode).toBe(0);
    await engine.kill(PROJECT, "web");
    const daemon = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";
    const failed = await pull({
      FAKE_DOCKER_FAIL: "start",
      FAKE_DOCKER_STDERR: daemon,
    });
    expect(failed.stderr).toContain("could not start web again");
    expect(await running("web")).toBe(false);
    const waiting = await status();
    expect(waiting.heal.restarts).toBe(1);
    expect(waiting.heal.nextRestartAt).not.toBeNull();

    // Within the backoff: left alone; after it: started.
    expect((await pull()).stderr).not.toContain("started it");
    await Bun.sleep(Math.max(0, Date.parse(waiting.heal.nextRestartAt) - Date.now() + 100));
    expect(count((await pull()).stderr, "web was exited (code 137); started it")).toBe(1);
    expect(await running("web")).toBe(true);
  });

  test("two git:pull at once beside the loop: the stopped container is started once and counted once (fake docker)", async () => {
    await node();
    expect((await cli(["start", "--dir", fx.node, "--no-cron", "--interval", "1"])).exitCode).toBe(0);
    await engine.kill(PROJECT, "web");
    const [a, b] = await Promise.all([pull(), pull()]);
    expect([a.exitCode, b.exitCode], a.stderr + b.stderr).toEqual([0, 0]);
    expect(await eventually(() => running("web"), 5_000)).toBe(true);
    await Bun.sleep(1_200);
    const said = a.stderr + b.stderr + (await loopLog());
    expect(count(said, "web was exited (code 137); started it")).toBe(1);
    expect((await status()).heal.restarts).toBe(1);
  });
});

describe("state files (fake docker)", () => {
  test("a garbage state file: git:pull warns, keeps the container running, and writes a state it can read again (fake docker)", async () => {
    await node();
    expect((await pull()).exitCode).toBe(0);
    const path = await statePath();
    writeFileSync(path, "\u0000{garbage");
    await engine.stop(PROJECT, "web");
    const after = await pull();
    expect(after.exitCode, after.stderr).toBe(0);
    expect(after.stderr).toContain("ignoring unreadable state file");
    expect(await running("web")).toBe(true);
    expect(() => JSON.parse(readFileSync(path, "utf8"))).not.toThrow();
    expect((await status()).deployedCommit).toBe(await fx.head());
  });

  test("a state file from before issue 23 (no heal, follow or services; deploying without an id): a stopped container is healed, a removed one is brought back by start (fake docker)", async () => {
    await node();
    expect((await pull()).exitCode).toBe(0);
    await editState((state) => {
      delete state.heal;
      delete state.follow;
      delete state.services;
    });
    await engine.stop(PROJECT, "web");
    const healed = await pull();
    expect(healed.exitCode, healed.stderr).toBe(0);
    expect(count(healed.stderr, "web was exited (code 0); started it")).toBe(1);
    expect(await running("web")).toBe(true);
    expect((await status()).heal.restarts).toBe(1);

    await editState((state) => {
      delete state.services;
    });
    await engine.remove(PROJECT, "web");
    const started = await cli(["start", "--dir", fx.node, "--no-cron", "--interval", "60"]);
    expect(started.exitCode, started.stderr).toBe(0);
    expect(await running("web")).toBe(true);
    expect(await deploys()).toHaveLength(1);
  });
});

describe("one loop, two parts (fake docker)", () => {
  async function configNode(): Promise<void> {
    cf = await ConfigFixture.create({
      appFiles: { "docker-compose.yml": ONE, "protocol.json": protocolJson() },
    });
    fx = cf.fx;
    engine = createFakeEngine(join(fx.root, "engine.json"));
    script = {};
  }

  test("config:slave:stop, then the loop still heals the app's containers (fake docker)", async () => {
    await configNode();
    const started = await cli(["start", "--dir", fx.node, "--no-cron", "--interval", "1", "--json"]);
    expect(started.exitCode, started.stderr).toBe(0);
    const { pid } = JSON.parse(started.stdout).slave;
    expect((await cli(["config:slave:stop", "--dir", fx.node])).exitCode).toBe(0);
    const now = await status();
    expect(now.slave).toMatchObject({ running: true, pid });
    expect(now.follow).toEqual({ app: true, config: false });

    await engine.kill(PROJECT, "web");
    expect(await eventually(() => running("web"), 10_000, 200)).toBe(true);
    expect(await loopLog()).toContain("web was exited (code 137); started it");
  });

  test("git:slave:stop while the config part is followed: the one loop keeps running for the config repo; git:slave makes it heal again (fake docker)", async () => {
    await configNode();
    const started = await cli(["start", "--dir", fx.node, "--no-cron", "--interval", "1", "--json"]);
    expect(started.exitCode, started.stderr).toBe(0);
    const { pid } = JSON.parse(started.stdout).slave;
    expect((await cli(["git:slave:stop", "--dir", fx.node])).exitCode).toBe(0);
    const now = await status();
    expect(now.slave).toMatchObject({ running: true, pid });
    expect(now.follow).toEqual({ app: false, config: true });

    expect((await cli(["git:slave", "--dir", fx.node, "--interval", "1"])).exitCode).toBe(0);
    await engine.kill(PROJECT, "web");
    expect(await eventually(() => running("web"), 10_000, 200)).toBe(true);
    expect((await status()).slave).toMatchObject({ running: true, pid });
  });
});
