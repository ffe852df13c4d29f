/**
 * Issue 12: at a terminal, long steps show their own progress (compose pull here) as it comes; off
 * a terminal (the loop's log, cron, CI) there is one line per step and no progress meter. The
 * terminal is a real pseudo-terminal (Bun.Terminal); docker is the fake, printing progress lines.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { FAKE_DOCKER_DIR, Fixture, git } from "../helpers/fixture.ts";
import { runOnTerminal } from "../helpers/terminal.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

const PROGRESS = "web Pulling,a1b2c3 Downloading 12.5MB/40MB,web Pulled";

const onTerminal = (args: string[]) =>
  runOnTerminal(args, {
    cwd: fx.root,
    env: { ...fx.env, PATH: `${FAKE_DOCKER_DIR}:${process.env.PATH}`, FAKE_DOCKER_PROGRESS: PROGRESS },
  });

describe("progress of long steps", () => {
  test("at a terminal, compose pull's own progress shows as it comes", async () => {
    await fx.push({ "docker-compose.yml": "services: {}\n" });
    await git(fx.node, "pull", "--quiet");
    const { exitCode, screen } = await onTerminal(["git:pull", "--dir", fx.node]);
    expect(exitCode).toBe(0);
    expect(screen).toContain("a1b2c3 Downloading 12.5MB/40MB");
    expect(screen).toContain("running docker compose");
  });

  test("off a terminal: one line per step, no progress meter", async () => {
    await fx.push({ "docker-compose.yml": "services: {}\n" });
    await git(fx.node, "pull", "--quiet");
    const run = await fx.cli(["git:pull", "--dir", fx.node], {
      fakeDocker: true,
      env: { FAKE_DOCKER_PROGRESS: PROGRESS },
    });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).not.toContain("Downloading");
    expect(run.stderr).toMatch(/info +running docker compose .* pull/);
    expect(run.stderr).toMatch(/info +running docker compose .* up -d/);
  });
});
