/**
 * Issue 29, item 1, for a rollback: putting the good deploy's images back pulls each by its recorded
 * digest (`docker pull --quiet image@digest`). A registry that stalls must not hold the rollback, and
 * so the node's loop, for ever: the pull is bounded like the engine's other long steps. A docker on
 * PATH that stalls on `docker pull` only and is the fake docker otherwise; the bad commit brings a
 * command probe that fails, so the deploy is rolled back.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliArgv, FAKE_DOCKER_DIR, Fixture, sh } from "../helpers/fixture.ts";
import { killProcessesWithArgv, processesWithArgv } from "../helpers/processes.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => {
  killProcessesWithArgv(["sleep", "1023.5"]);
  await fx[Symbol.asyncDispose]();
});

const image = "registry.example.com/shop/app:latest";
const digest = `sha256:${"a".repeat(64)}`;
/** The engine as the fake docker reports it: the app service running `image`, pulled at `digest`. */
const engine = {
  FAKE_DOCKER_CONTAINERS: JSON.stringify([
    {
      Id: "c1",
      Image: "sha256:img1",
      Config: { Image: image, Labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": "app" } },
      State: { Status: "running", Running: true, ExitCode: 0 },
    },
  ]),
  FAKE_DOCKER_IMAGES: JSON.stringify([{ Id: "sha256:img1", RepoDigests: [`registry.example.com/shop/app@${digest}`] }]),
  FAKE_DOCKER_EXEC_EXIT: JSON.stringify({ "check-new": 1 }),
};

function stallingDockerPull(): string {
  const dir = join(fx.root, "stalling-docker");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "docker"),
    `#!/bin/sh\nif [ "$1" = pull ]; then sleep 1023.5 & wait; fi\nexec "${FAKE_DOCKER_DIR}/docker" "$@"\n`,
  );
  chmodSync(join(dir, "docker"), 0o755);
  return `${dir}:${FAKE_DOCKER_DIR}:${process.env.PATH}`;
}

describe("a rollback's image restore", () => {
  test("a docker pull of the good digest that stalls is given up: the rollback ends, the node is not held", async () => {
    const protocolJson = { name: "shop", docker: { project: "shop" }, deploy: { settleSeconds: 0 } };
    await fx.push({ "docker-compose.yml": "services: {}\n", "protocol.json": JSON.stringify(protocolJson) }, "good");
    const good = await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true, env: engine });
    expect(good.exitCode, good.stderr).toBe(0);

    const withProbe = {
      ...protocolJson,
      deploy: { settleSeconds: 0, health: { timeout: 3, command: { service: "app", run: ["check-new"], retries: 0 } } },
    };
    await fx.push({ "protocol.json": JSON.stringify(withProbe) }, "adds a failing probe");
    const bad = await sh(["timeout", "40", ...cliArgv(), "git:pull", "--dir", fx.node], {
      cwd: fx.root,
      env: {
        ...fx.env,
        ...engine,
        PATH: stallingDockerPull(),
        PROTOCOL_DOCKER_TIMEOUT: "2",
        PROTOCOL_COMPOSE_TIMEOUT: "2",
      },
    });
    expect(bad.stderr).toContain("health check failed");
    // Bounded by `timeout 40`: a pull held for ever ends as 124.
    expect(bad.exitCode).not.toBe(124);
    expect(await Bun.sleep(500).then(() => processesWithArgv(["sleep", "1023.5"]))).toEqual([]);
  }, 90_000);
});
