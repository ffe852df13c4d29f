/**
 * Issue 29, item 1, for the health gate: deploy.health.timeout bounds the whole gate, so a command
 * probe whose `compose exec` never returns (a health script stuck on a lock inside the container),
 * or a compose that never answers which service to probe, fails the gate in time instead of holding
 * git:pull and the loop for ever. The fake docker stalls the one subcommand it is told to.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { cliArgv, FAKE_DOCKER_DIR, Fixture, sh } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

/** git:pull under timeout(1) (exit 124 when it had to be killed), the fake docker stalling `hang`. */
async function pullWithStalled(hang: string, env: Record<string, string> = {}) {
  const started = Date.now();
  const run = await sh(["timeout", "30", ...cliArgv(), "git:pull", "--dir", fx.node], {
    cwd: fx.root,
    env: { ...fx.env, PATH: `${FAKE_DOCKER_DIR}:${process.env.PATH}`, FAKE_DOCKER_HANG: hang, ...env },
  });
  return { run, seconds: (Date.now() - started) / 1000 };
}

const withHealthCommand = (command: Record<string, unknown>) => ({
  "protocol.json": JSON.stringify({ deploy: { settleSeconds: 0, health: { timeout: 3, command } } }),
  "docker-compose.yml": "services:\n  app:\n    image: busybox\n",
});

describe("deploy.health.timeout bounds the health gate", () => {
  test("a command probe whose compose exec never returns fails the gate after the health timeout", async () => {
    await fx.push(withHealthCommand({ service: "app", run: ["true"], retries: 0 }));
    const { run, seconds } = await pullWithStalled("exec");
    expect(run.exitCode).not.toBe(124);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain("health check failed");
    expect(seconds).toBeLessThan(20);
  }, 60_000);

  test("a command probe without a service, while compose config never answers, is given up too", async () => {
    await fx.push(withHealthCommand({ run: ["true"], retries: 0 }));
    const { run, seconds } = await pullWithStalled("config", { PROTOCOL_DOCKER_TIMEOUT: "2" });
    expect(run.exitCode).not.toBe(124);
    expect(run.exitCode).not.toBe(0);
    expect(seconds).toBeLessThan(20);
  }, 60_000);
});
