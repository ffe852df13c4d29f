/**
 * Issue 12: infrastructure is not the commit's fault. An engine that is down, a registry that does
 * not have the image yet, a compose killed by a signal: the deploy is an `error`, retried with
 * backoff, never quarantined and never rolled back; once the fault is gone the node deploys the
 * commit it already has, without a new push. (Fake docker: stopping the real engine here would
 * stop it for every other test.)
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadApp } from "../../src/lib/app/app.ts";
import { readDeploys, readNodeState } from "../../src/lib/app/state.ts";
import { runPass } from "../../src/lib/node/pass.ts";
import { FAKE_DOCKER_DIR, Fixture, git } from "../helpers/fixture.ts";

let fx: Fixture;
let engineDown: string;
const savedEnv = { ...process.env };

beforeEach(async () => {
  fx = await Fixture.create();
  engineDown = join(fx.root, "engine-down");
  process.env.FAKE_DOCKER_LOG = fx.env.FAKE_DOCKER_LOG;
  process.env.FAKE_DOCKER_ENGINE_DOWN = engineDown;
  process.env.PATH = `${FAKE_DOCKER_DIR}:${savedEnv.PATH}`;
});

afterEach(async () => {
  process.env = { ...savedEnv };
  await fx[Symbol.asyncDispose]();
});

const app = () => loadApp(fx.node);
const sync = () => runPass(app(), { command: "test" });
const state = () => readNodeState(app().paths.status);
const lastDeploy = () => readDeploys(app().paths.deploys).at(-1);
const stopEngine = () => writeFileSync(engineDown, "");
const startEngine = () => rmSync(engineDown, { force: true });

const COMPOSE = { "docker-compose.yml": "services: {}\n" };

describe("infrastructure faults (fake docker)", () => {
  test("engine down on a first deploy: an error, not quarantined; deployed when the engine is back, no new push", async () => {
    const commit = await fx.push(COMPOSE);
    await git(fx.node, "pull", "--quiet");
    stopEngine();
    const failed = await sync();
    expect(failed.result).toBe("error");
    expect(failed.error).toContain("the docker engine is not running");
    expect(failed.error).not.toContain("rolled back");
    expect(lastDeploy()).toMatchObject({ to: commit, result: "error", rolledBackTo: null });
    expect(state().quarantine).toBeNull();
    // Still down: retried (the loop backs off), still not quarantined.
    expect((await sync()).result).toBe("error");
    expect(state().failures).toBe(2);
    startEngine();
    const back = await sync();
    expect(back.result).toBe("deployed");
    expect(state()).toMatchObject({ deployedCommit: commit, quarantine: null, failures: 0 });
  });

  test("engine down for a new commit: the working copy does not move; it moves and deploys when the engine is back", async () => {
    await fx.push(COMPOSE);
    expect((await sync()).result).toBe("deployed");
    const before = await fx.head();
    const next = await fx.push({ "app.txt": "v2\n" });
    stopEngine();
    const failed = await sync();
    expect(failed.result).toBe("error");
    expect(failed.error).toContain("the docker engine is not running");
    expect(await fx.head()).toBe(before);
    expect(state().quarantine).toBeNull();
    startEngine();
    expect((await sync()).result).toBe("deployed");
    expect(await fx.head()).toBe(next);
  });

  test("the engine dies between pull and up: no rollback, no quarantine; the same commit deploys once it is back", async () => {
    await fx.push(COMPOSE);
    expect((await sync()).result).toBe("deployed");
    const next = await fx.push({ "app.txt": "v2\n" });
    process.env.FAKE_DOCKER_FAIL = "up";
    process.env.FAKE_DOCKER_STDERR =
      "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";
    const failed = await sync();
    expect(failed.result).toBe("error");
    expect(lastDeploy()).toMatchObject({ to: next, result: "error", rolledBackTo: null });
    expect(await fx.head()).toBe(next);
    expect(state().quarantine).toBeNull();
    delete process.env.FAKE_DOCKER_FAIL;
    expect((await sync()).result).toBe("deployed");
    expect(state().deployedCommit).toBe(next);
  });

  test.each([
    [
      "an image not pushed yet",
      "pull",
      "Error response from daemon: manifest for ghcr.io/acme/shop:v9 not found: manifest unknown",
    ],
    [
      "a registry that cannot be reached",
      "pull",
      'Error response from daemon: Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io: no such host',
    ],
    ["a full disk", "up", "failed to register layer: write /var/lib/docker/overlay2/x: no space left on device"],
  ])("%s is retried, not quarantined", async (_name, verb, stderr) => {
    await fx.push(COMPOSE);
    await git(fx.node, "pull", "--quiet");
    process.env.FAKE_DOCKER_FAIL = verb;
    process.env.FAKE_DOCKER_STDERR = stderr;
    expect((await sync()).result).toBe("error");
    expect(state().quarantine).toBeNull();
    expect(lastDeploy()?.result).toBe("error");
    delete process.env.FAKE_DOCKER_FAIL;
    expect((await sync()).result).toBe("deployed");
  });

  test("a compose killed by a signal is retried, not quarantined", async () => {
    await fx.push(COMPOSE);
    await git(fx.node, "pull", "--quiet");
    process.env.FAKE_DOCKER_KILL = "up";
    const failed = await sync();
    expect(failed.result).toBe("error");
    expect(failed.error).toContain("killed by SIGKILL");
    expect(state().quarantine).toBeNull();
    delete process.env.FAKE_DOCKER_KILL;
    expect((await sync()).result).toBe("deployed");
  });

  test("compose rejecting the commit's own files while the engine answers is the commit's fault: quarantined", async () => {
    const bad = await fx.push(COMPOSE);
    await git(fx.node, "pull", "--quiet");
    process.env.FAKE_DOCKER_FAIL = "up";
    process.env.FAKE_DOCKER_STDERR = "yaml: line 3: mapping values are not allowed in this context";
    const failed = await sync();
    expect(failed.error).toContain("mapping values are not allowed");
    expect(lastDeploy()).toMatchObject({ to: bad, result: "failed" });
    expect(state().quarantine).toMatchObject({ commit: bad, rolledBackTo: null });
    delete process.env.FAKE_DOCKER_FAIL;
    const skipped = await sync();
    expect(skipped.result).toBe("quarantined");
    expect(skipped.error).toContain("nothing was rolled back");
  });
});

describe("the loop's log lines (announce, as slave mode runs them)", () => {
  test("each change of outcome is one line: failed (said once), deployed, unreachable, recovered, failed again, quarantined", async () => {
    const lines: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => lines.push(args.join(" "));
    const poll = () => runPass(app(), { command: "git:slave", announce: true });
    const said = (needle: string) => lines.filter((line) => line.includes(needle)).length;
    try {
      await fx.push(COMPOSE);
      await git(fx.node, "pull", "--quiet");
      stopEngine();
      await poll();
      await poll();
      expect(said("sync error: deploy")).toBe(0);
      expect(said("sync error:")).toBe(1);
      startEngine();
      await poll();
      expect(lines.some((line) => /success deployed - → [0-9a-f]{8} in \d+\.\ds/.test(line))).toBe(true);
      await poll();
      expect(said("up to date")).toBe(0);

      // The remote goes away, then comes back: unreachable once, then recovered.
      await git(fx.node, "remote", "set-url", "origin", join(fx.root, "gone.git"));
      await poll();
      await poll();
      expect(said("sync unreachable:")).toBe(1);
      await git(fx.node, "remote", "set-url", "origin", fx.remote);
      await poll();
      expect(lines.some((line) => /success recovered: up to date at [0-9a-f]{8} \(was unreachable\)/.test(line))).toBe(
        true,
      );

      // A commit whose compose file the engine rejects: failed once, then quarantined once.
      process.env.FAKE_DOCKER_FAIL = "up";
      process.env.FAKE_DOCKER_STDERR = "yaml: line 1: did not find expected key";
      await fx.push({ "app.txt": "broken\n" });
      await poll();
      await poll();
      await poll();
      expect(said("did not find expected key")).toBeGreaterThan(0);
      expect(said("sync error: docker compose up failed: yaml")).toBe(1);
      expect(said("sync quarantined:")).toBe(1);
    } finally {
      console.error = original;
    }
  });
});
