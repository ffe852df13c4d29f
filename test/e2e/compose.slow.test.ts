/**
 * End to end against a real engine: a private dockerd, compose v1 (Debian 12 has no v2 plugin, so
 * this is protocol's v1 fallback) and a loopback registry, from scripts/docker-env.sh.
 *
 * The app is a busybox httpd on the host network (so the test reaches it on 127.0.0.1) that serves
 * the image's VERSION build arg: a test can tell which image a node runs over HTTP as well as by id.
 */
import { afterEach, beforeAll, describe, expect } from "bun:test";
import { type Container, freePort, useDockerEnv } from "../helpers/docker-env.ts";
import { eventually, Fixture, git, type Run } from "../helpers/fixture.ts";
import { startGitHttp } from "../helpers/git-http.ts";

const engine = await useDockerEnv();

const REPOSITORY = "e2e/app";
const image = () => `${engine.registry}/${REPOSITORY}:latest`;

/** sh as PID 1 with a TERM trap, so `docker stop` (and compose recreating it) takes no grace period. */
const DOCKERFILE = (base: string) => `FROM ${base}
ARG VERSION=v1
RUN mkdir -p /www && echo "$VERSION" > /www/index.html
CMD ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p \${PORT} -h /www & wait"]
`;

function composeYaml(options: { port: number; greeting: string }): string {
  return `version: "2.4"
services:
  app:
    image: ${image()}
    network_mode: host
    stop_grace_period: 1s
    environment:
      PORT: "${options.port}"
      GREETING: ${options.greeting}
`;
}

/** Build `VERSION` of the app image and push it under the floating tag; returns image id and digest. */
async function publishApp(version: string): Promise<{ id: string; digest: string }> {
  const id = await engine.buildImage(image(), DOCKERFILE(engine.baseImage), { buildArgs: { VERSION: version } });
  return { id, digest: await engine.pushImage(image()) };
}

async function served(port: number): Promise<string | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) });
    return response.ok ? (await response.text()).trim() : null;
  } catch {
    return null;
  }
}

/** Shows stderr in the failure diff when a command does not exit 0. */
const expectOk = (run: Run) => expect({ exitCode: run.exitCode, stderr: run.stderr }).toMatchObject({ exitCode: 0 });

describe("real engine, compose v1", () => {
  let fx: Fixture | undefined;
  let project: string;
  let port: number;

  /** A node of an app whose compose file runs the pushed image; not started. */
  async function createApp(greeting = "one"): Promise<Fixture> {
    project = `e2e-${crypto.randomUUID().slice(0, 8)}`;
    port = freePort();
    fx = await Fixture.create({
      files: {
        // A 2 s settle: the default gate (10 s) is the converge tests' subject, and it would add 8 s per deploy here.
        "protocol.json": `${JSON.stringify({ name: project, docker: { project }, deploy: { settleSeconds: 2 } }, null, 2)}\n`,
        "docker-compose.yml": composeYaml({ port, greeting }),
      },
    });
    return fx;
  }

  const running = async (): Promise<Container[]> => (await engine.projectContainers(project)).filter((c) => c.running);

  beforeAll(async () => {
    if (engine.ready) await publishApp("v1");
  }, 60_000);

  afterEach(async () => {
    if (!fx) return;
    await fx.cli(["stop", "--dir", fx.node], { env: engine.env });
    await engine.removeProject(project);
    await fx[Symbol.asyncDispose]();
    fx = undefined;
  }, 60_000);

  engine.test(
    "brings a compose app up for real, recreates its container when a pushed commit changes the compose file, and stop --down removes it",
    async () => {
      const fx = await createApp("one");
      const started = await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"], { env: engine.env });
      expectOk(started);

      const [first, ...others] = await running();
      expect(others).toEqual([]);
      expect(first).toMatchObject({ service: "app", running: true, env: { GREETING: "one", PORT: String(port) } });
      expect(await eventually(async () => (await served(port)) === "v1", 10_000)).toBe(true);
      const deploys = JSON.parse((await fx.cli(["deploy:log", "--dir", fx.node, "--json"])).stdout);
      expect(deploys).toHaveLength(1);
      expect(deploys[0]).toMatchObject({ result: "deployed", compose: true, error: null });

      const pushed = await fx.push({ "docker-compose.yml": composeYaml({ port, greeting: "two" }) }, "greet with two");
      const recreated = await eventually(
        async () => {
          const now = await running();
          return now.length === 1 && now[0]!.env.GREETING === "two";
        },
        30_000,
        250,
      );
      expect(recreated).toBe(true);
      const [second] = await running();
      expect(second!.id).not.toBe(first!.id);
      expect(await fx.head()).toBe(pushed);
      expect(await engine.projectContainers(project)).toHaveLength(1);
      expect(await eventually(async () => (await served(port)) === "v1", 10_000)).toBe(true);

      const stopped = await fx.cli(["stop", "--dir", fx.node, "--down", "--json"], { env: engine.env });
      expectOk(stopped);
      expect(JSON.parse(stopped.stdout)).toMatchObject({ down: true });
      expect(await engine.projectContainers(project)).toEqual([]);
      expect(await served(port)).toBeNull();
    },
    120_000,
  );

  engine.test(
    "a new image digest pushed under the same tag is pulled and the container recreated, without a commit",
    async () => {
      const v1 = await publishApp("v1");
      const fx = await createApp("one");
      expectOk(await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"], { env: engine.env }));
      expect(await eventually(async () => (await served(port)) === "v1", 10_000)).toBe(true);
      const recorded = JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout).images;
      expect(recorded).toEqual([{ service: "app", image: image(), digest: v1.digest }]);

      const v2 = await publishApp("v2");
      // Builder and node share this engine: point the node's tag back at v1, as a node that has not pulled.
      await engine.dockerOk(["tag", v1.id, image()]);
      const pushedAt = performance.now();
      const followed = await eventually(async () => (await running())[0]?.image === v2.id, 30_000, 100);
      expect(followed).toBe(true);
      // A figure for the issue note, not an assert: digest in the registry → container on it.
      console.log(
        `e2e: new digest in the registry → container recreated: ${Math.round(performance.now() - pushedAt)} ms at --interval 1`,
      );
      expect(await eventually(async () => (await served(port)) === "v2", 10_000)).toBe(true);
      const lastDeploy = async () =>
        JSON.parse((await fx.cli(["deploy:log", "--dir", fx.node, "--json"])).stdout).at(-1);
      // The record is written after the deploy's gate: the default settle time (10 s) comes first.
      expect(await eventually(async () => (await lastDeploy()).reason === "image", 30_000)).toBe(true);
      expect(await lastDeploy()).toMatchObject({
        reason: "image",
        result: "deployed",
        images: [{ service: "app", digest: v2.digest }],
      });
    },
    120_000,
  );

  engine.test(
    "a failing health probe rolls back to the last good commit and its recorded digest for real, and the bad commit is not retried",
    async () => {
      const v1 = await publishApp("v1");
      const fx = await createApp("one");
      // The remote over HTTP, so the loop's polls can be counted.
      await using remote = startGitHttp(fx.root);
      await git(fx.node, "remote", "set-url", "origin", remote.url("remote.git"));
      const health = { deploy: { health: { timeout: 20, http: { url: `http://127.0.0.1:${port}/`, retries: 5 } } } };
      const good = await fx.push(
        { "protocol.json": `${JSON.stringify({ name: project, docker: { project }, ...health }, null, 2)}\n` },
        "health gate",
      );
      expectOk(await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"], { env: engine.env }));
      expect(await fx.head()).toBe(good);
      expect(await eventually(async () => (await served(port)) === "v1", 10_000)).toBe(true);

      // v2 under the same tag, and a commit that moves the server to a port the probe does not ask.
      await publishApp("v2");
      const bad = await fx.push(
        { "docker-compose.yml": composeYaml({ port: freePort(), greeting: "broken" }) },
        "wrong port",
      );
      const rolledBack = await eventually(
        async () => {
          const deploys = JSON.parse((await fx.cli(["deploy:log", "--dir", fx.node, "--json"])).stdout);
          return deploys.at(-1)?.result === "rolled-back";
        },
        60_000,
        250,
      );
      expect(rolledBack).toBe(true);
      const deploys = JSON.parse((await fx.cli(["deploy:log", "--dir", fx.node, "--json"])).stdout);
      expect(deploys.at(-1)).toMatchObject({ to: bad, result: "rolled-back", rolledBackTo: good });
      expect(deploys.at(-1).error).toContain("health check failed");
      expect(await fx.head()).toBe(good);
      // The good digest's container (read again for a while: a loaded engine may still be recreating it).
      expect(await eventually(async () => (await running())[0]?.image === v1.id, 15_000, 250)).toBe(true);
      const [container] = await running();
      expect(container).toMatchObject({ image: v1.id, env: { GREETING: "one" } });
      expect(await served(port)).toBe("v1");

      // Quarantined: the next three polls leave it alone.
      const polls = remote.refsRequests("remote.git");
      expect(await eventually(() => remote.refsRequests("remote.git") >= polls + 3, 30_000)).toBe(true);
      const later = JSON.parse((await fx.cli(["deploy:log", "--dir", fx.node, "--json"])).stdout);
      expect(later).toHaveLength(deploys.length);
      const status = JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);
      expect(status.lastSync.result).toBe("quarantined");
      expect(status.quarantine.commit).toBe(bad);
    },
    150_000,
  );
});
