/**
 * The fake docker's stateful engine (FAKE_DOCKER_STATE), which the converge tests stand on: it must do
 * what docker and compose do to containers, or those tests prove nothing. Without FAKE_DOCKER_STATE the
 * fake stays the stateless one every other test uses.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createFakeEngine,
  FAKE_DOCKER,
  type FakeEngine,
  type FakeEngineScript,
  upCalls,
} from "../helpers/fake-engine.ts";
import { eventually, sh } from "../helpers/fixture.ts";

let dir: string;
let engine: FakeEngine;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "protocol-fake-engine-"));
  engine = createFakeEngine(join(dir, "engine.json"));
  writeFileSync(join(dir, "docker-compose.yml"), "services:\n  web:\n    image: shop:1\n  worker:\n    build: .\n");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** docker compose as protocol calls it: the project by name, the file named. */
const compose = (project: string, args: string[], script?: FakeEngineScript) =>
  engine.docker(["compose", "--project-name", project, "--file", "docker-compose.yml", ...args], { cwd: dir, script });
const byService = async (project: string) =>
  Object.fromEntries((await engine.containers(project)).map((c) => [c.service, c]));

describe("fake docker with FAKE_DOCKER_STATE", () => {
  test("fake docker: up creates running containers of each service, labelled with the project, that ps and inspect find", async () => {
    expect((await compose("shop", ["config", "--services"])).stdout).toBe("web\nworker\n");
    const up = await compose("shop", ["up", "-d", "--remove-orphans"]);
    expect(up.exitCode, up.stderr).toBe(0);
    const { web, worker } = await byService("shop");
    expect(web).toMatchObject({ name: "shop-web-1", image: "shop:1", status: "running", running: true, exitCode: 0 });
    expect(worker).toMatchObject({ name: "shop-worker-1", image: "shop-worker", running: true, health: null });
    expect(web!.id).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.now() - Date.parse(web!.startedAt)).toBeLessThan(30_000);
    expect(web!.inspect).toMatchObject({
      Image: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      Config: { Labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": "web" } },
      State: { Status: "running", Running: true, ExitCode: 0, Health: null },
      RestartCount: 0,
    });
    // protocol's own query: ids of the project's containers, then inspect of them.
    const ps = await engine.docker([
      "ps",
      "--all",
      "--quiet",
      "--no-trunc",
      "--filter",
      "label=com.docker.compose.project=other",
    ]);
    expect(ps.stdout).toBe("");
    // FAKE_DOCKER_SERVICES names the services instead of the compose file.
    await compose("other", ["up", "-d"], { services: ["api"] });
    expect((await engine.containers("other")).map((c) => c.service)).toEqual(["api"]);
    expect(await engine.containers("shop")).toHaveLength(2);
  });

  test("fake docker: up -d leaves running containers alone, starts a stopped one, recreates on --force-recreate or a new image", async () => {
    await compose("shop", ["up", "-d"]);
    const first = await byService("shop");
    await Bun.sleep(5);
    await compose("shop", ["up", "-d"]);
    expect(await byService("shop")).toEqual(first);

    await engine.stop("shop", "web");
    await compose("shop", ["up", "-d"]);
    const started = await byService("shop");
    expect(started.web).toMatchObject({ id: first.web!.id, running: true });
    expect(started.web!.startedAt > first.web!.startedAt).toBe(true);
    expect(started.worker).toEqual(first.worker!);

    await compose("shop", ["up", "-d", "--force-recreate"]);
    const recreated = await byService("shop");
    expect(recreated.web!.id).not.toBe(first.web!.id);
    expect(recreated.worker!.id).not.toBe(first.worker!.id);

    writeFileSync(join(dir, "docker-compose.yml"), "services:\n  web:\n    image: shop:2\n");
    await compose("shop", ["up", "-d", "--remove-orphans"]);
    const next = await engine.containers("shop");
    expect(next.map((c) => [c.service, c.image])).toEqual([["web", "shop:2"]]);
    expect(next[0]!.id).not.toBe(recreated.web!.id);
  });

  test("fake docker: FAKE_DOCKER_CRASH exits a service's (or an image's) container as up starts it, or N s later with @N", async () => {
    await compose("shop", ["up", "-d"], { crash: { web: 1, "shop-worker": 137 } });
    const { web, worker } = await byService("shop");
    expect(web).toMatchObject({ status: "exited", running: false, exitCode: 1 });
    expect(web!.inspect.State.FinishedAt).toBe(web!.startedAt);
    expect(worker).toMatchObject({ status: "exited", exitCode: 137 });

    // Started again without the crash: it runs.
    await compose("shop", ["up", "-d"]);
    expect((await engine.containers("shop")).every((c) => c.running)).toBe(true);

    await compose("late", ["up", "-d", "web"], { crash: { web: "3@0.5" } });
    expect(await engine.container("late", "web")).toMatchObject({ running: true });
    expect(await eventually(async () => (await engine.container("late", "web"))?.status === "exited", 5_000, 50)).toBe(
      true,
    );
    const late = (await engine.container("late", "web"))!;
    expect(late.exitCode).toBe(3);
    expect(Date.parse(late.finishedAt) - Date.parse(late.startedAt)).toBe(500);
  });

  test("fake docker: FAKE_DOCKER_HEALTH sets State.Health; up --wait fails on a crash or unhealthy, passes a one-shot that exits 0", async () => {
    await compose("shop", ["up", "-d"], { health: { web: "starting" } });
    expect((await engine.container("shop", "web"))!.inspect.State.Health).toMatchObject({ Status: "starting" });
    expect((await engine.container("shop", "worker"))!.health).toBeNull();

    const unhealthy = await compose("sick", ["up", "-d", "--wait"], { health: { web: "unhealthy" } });
    expect(unhealthy.exitCode).toBe(1);
    expect(unhealthy.stderr).toContain("container sick-web-1 is unhealthy");
    const crashed = await compose("dead", ["up", "-d", "--wait"], { crash: { worker: 2 } });
    expect(crashed.exitCode).toBe(1);
    expect(crashed.stderr).toContain("container dead-worker-1 exited (2)");
    const starting = await compose("slow", ["up", "-d", "--wait", "--wait-timeout", "1"], {
      health: { web: "starting" },
    });
    expect(starting.exitCode).toBe(1);
    const oneShot = await compose("once", ["up", "-d", "--wait"], { crash: { worker: 0 }, health: { web: "healthy" } });
    expect(oneShot.exitCode, oneShot.stderr).toBe(0);
  });

  test("fake docker: stop → exited 0, kill → exited 137, start runs it again, rm -f removes it; an unknown one is docker's error", async () => {
    await compose("shop", ["up", "-d"]);
    const stopped = await engine.stop("shop", "web");
    expect(await engine.container("shop", "web")).toMatchObject({ id: stopped.id, status: "exited", exitCode: 0 });
    expect((await engine.docker(["ps", "--quiet", "--no-trunc"])).stdout.trim().split("\n")).toHaveLength(1);
    const started = await engine.docker(["start", "shop-web-1"]);
    expect(started.stdout).toBe("shop-web-1\n");
    expect(await engine.container("shop", "web")).toMatchObject({ running: true, exitCode: 0 });
    await engine.kill("shop", "web");
    expect(await engine.container("shop", "web")).toMatchObject({ status: "exited", exitCode: 137 });
    await engine.docker(["start", stopped.id.slice(0, 12)]);
    const refused = await engine.docker(["rm", stopped.id]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("container is running");
    await engine.remove("shop", "web");
    expect(await engine.container("shop", "web")).toBeUndefined();

    const unknown = await engine.docker(["inspect", "--type", "container", "nope"]);
    expect(unknown.exitCode).toBe(1);
    expect(JSON.parse(unknown.stdout)).toEqual([]);
    expect(unknown.stderr).toContain("No such container: nope");
    expect((await engine.docker(["stop", "nope"])).exitCode).toBe(1);
  });

  test("fake docker: compose down removes only its project's containers; compose stop and start act on its services", async () => {
    await compose("shop", ["up", "-d"]);
    await compose("blog", ["up", "-d"]);
    await compose("shop", ["stop", "worker"]);
    expect((await byService("shop")).worker).toMatchObject({ status: "exited", exitCode: 0 });
    expect((await byService("shop")).web!.running).toBe(true);
    await compose("shop", ["start"]);
    expect((await engine.containers("shop")).every((c) => c.running)).toBe(true);
    await compose("shop", ["down"]);
    expect(await engine.containers("shop")).toEqual([]);
    expect(await engine.containers("blog")).toHaveLength(2);
  });

  test("fake docker: calls from many processes at once lose no change (a lock, and a temp file renamed)", async () => {
    const projects = Array.from({ length: 8 }, (_, i) => `p${i}`);
    const runs = await Promise.all(projects.map((project) => compose(project, ["up", "-d"])));
    expect(runs.map((run) => run.exitCode)).toEqual(projects.map(() => 0));
    for (const project of projects) expect(await engine.containers(project)).toHaveLength(2);
    const leftovers = readdirSync(dir).filter((name) => name.startsWith("engine.json."));
    expect(leftovers).toEqual([]);
  });

  test("fake docker: without FAKE_DOCKER_STATE it is the stateless fake: FAKE_DOCKER_CONTAINERS answers, up changes nothing", async () => {
    const containers = [{ Id: "abc", Config: { Image: "x", Labels: {} }, State: { Status: "running", Running: true } }];
    const env = {
      FAKE_DOCKER_STATE: undefined,
      FAKE_DOCKER_CONTAINERS: JSON.stringify(containers),
      FAKE_DOCKER_LOG: join(dir, "log"),
    };
    const stateless = (args: string[]) => sh([process.execPath, FAKE_DOCKER, ...args], { cwd: dir, env });
    rmSync(engine.statePath);
    expect((await stateless(["compose", "--project-name", "shop", "up", "-d"])).exitCode).toBe(0);
    expect((await stateless(["ps", "--all", "--quiet"])).stdout).toBe("abc\n");
    expect(JSON.parse((await stateless(["inspect", "--type", "container", "whatever"])).stdout)).toEqual(containers);
    expect((await stateless(["compose", "config", "--services"])).stdout).toBe("");
    expect(existsSync(engine.statePath)).toBe(false);
    expect(upCalls(join(dir, "log"))).toBe(1);
  });

  test("fake engine helper: upCalls counts compose up in FAKE_DOCKER_LOG, whatever the global flags", async () => {
    const log = join(dir, "docker.log");
    expect(upCalls(log)).toBe(0);
    const logged = (args: string[]) =>
      sh([process.execPath, FAKE_DOCKER, ...args], { cwd: dir, env: { ...engine.env(), FAKE_DOCKER_LOG: log } });
    await logged(["compose", "--project-name", "up", "--file", "docker-compose.yml", "up", "-d"]);
    await logged(["compose", "--project-name", "up", "pull"]);
    await logged(["ps", "--all", "--quiet"]);
    await logged(["compose", "--project-name", "up", "up", "-d", "--wait"]);
    expect(upCalls(log)).toBe(2);
  });
});
