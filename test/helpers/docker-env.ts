/**
 * The real-engine (e2e) tier's docker: a private dockerd and a loopback registry made by
 * scripts/docker-env.sh. `await useDockerEnv()` at the top of a test file either reuses the env that
 * .ci/run brought up (PROTOCOL_E2E_ENV=<workdir>) or brings one up in a temp dir and tears it down in
 * afterAll. It runs at load time, not in beforeAll, because whether a test is skipped has to be
 * known when the test is registered.
 *
 * No engine (not root, apt-get fails, dockerd won't start): the tests skip with a printed reason.
 * With CI=true they run anyway and fail with that reason: CI must run this tier.
 */
import { afterAll, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathWithRealDocker, REPO_ROOT, type Run, sh } from "./fixture.ts";

const SCRIPT = join(REPO_ROOT, "scripts", "docker-env.sh");
/** A first run installs the packages with apt-get. */
const UP_TIMEOUT_MS = 5 * 60_000;
const ON_CI = process.env.CI === "true";

export interface Container {
  id: string;
  name: string;
  service: string;
  running: boolean;
  /** The image id (sha256:…) the container runs. */
  image: string;
  env: Record<string, string>;
}

type TestBody = () => Promise<void>;

export interface DockerEnv {
  ready: boolean;
  /** Why there is no engine, when there is none. */
  reason: string | null;
  /** DOCKER_HOST and DOCKER_CONFIG of the private engine: pass it to fx.cli and to docker. */
  env: Record<string, string>;
  /** The loopback registry, 127.0.0.1:PORT (plain HTTP). */
  registry: string;
  /** An image built with no registry; `FROM` it. */
  baseImage: string;
  /** `test`, skipped when there is no engine (failing instead on CI). */
  test: ((name: string, body: TestBody, timeoutMs?: number) => void) & { todo: (name: string) => void };
  docker(args: string[], options?: { cwd?: string; input?: string }): Promise<Run>;
  /** docker … that must succeed; returns its trimmed stdout. */
  dockerOk(args: string[], options?: { cwd?: string; input?: string }): Promise<string>;
  /** Build an image from a Dockerfile (and files beside it); returns the image id. */
  buildImage(
    tag: string,
    dockerfile: string,
    options?: { files?: Record<string, string>; buildArgs?: Record<string, string> },
  ): Promise<string>;
  /** Push to the loopback registry; returns the manifest digest the registry now has for the tag. */
  pushImage(tag: string): Promise<string>;
  /** HEAD /v2/<repo>/manifests/<tag> on the loopback registry → Docker-Content-Digest, null on 404. */
  registryDigest(repository: string, tag: string): Promise<string | null>;
  /** The containers of a compose project, found by compose's label (works for compose v1 and v2). */
  projectContainers(project: string): Promise<Container[]>;
  /** Remove whatever a test left of a compose project, without compose. */
  removeProject(project: string): Promise<void>;
}

function parseEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

async function runScript(verb: "up" | "down", workdir: string): Promise<Run & { timedOut: boolean }> {
  const child = Bun.spawn(["bash", SCRIPT, verb, workdir], {
    env: { ...process.env, PATH: pathWithRealDocker() },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: UP_TIMEOUT_MS,
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, stdout, stderr, timedOut: child.signalCode !== null };
}

const lastLines = (text: string, count = 6) => text.trim().split("\n").slice(-count).join("\n");

/** Reuse PROTOCOL_E2E_ENV, else bring an env up (torn down in afterAll). */
async function bringUp(): Promise<{ env: Record<string, string> } | { reason: string }> {
  const given = process.env.PROTOCOL_E2E_ENV;
  if (given) {
    const file = join(given, "env");
    if (!existsSync(file))
      return { reason: `PROTOCOL_E2E_ENV=${given} has no env file: run scripts/docker-env.sh up ${given}` };
    return { env: parseEnvFile(file) };
  }
  if (process.platform !== "linux") return { reason: `the private engine needs Linux, not ${process.platform}` };
  if (process.getuid?.() !== 0)
    return { reason: "not root: dockerd and apt-get need root (sudo npm test, or run in CI)" };
  const workdir = mkdtempSync(join(tmpdir(), "protocol-e2e."));
  afterAll(async () => {
    const down = await runScript("down", workdir);
    if (down.exitCode !== 0) console.error(`scripts/docker-env.sh down ${workdir} failed:\n${lastLines(down.stderr)}`);
  }, 60_000);
  const up = await runScript("up", workdir);
  if (up.exitCode !== 0) {
    return {
      reason: `scripts/docker-env.sh up ${up.timedOut ? "timed out" : `failed (exit ${up.exitCode})`}:\n${lastLines(up.stderr)}`,
    };
  }
  return { env: parseEnvFile(join(workdir, "env")) };
}

export async function useDockerEnv(): Promise<DockerEnv> {
  const started = await bringUp();
  const reason = "reason" in started ? started.reason : null;
  const fileEnv = "env" in started ? started.env : {};
  const ready = reason === null;
  if (!ready) {
    if (ON_CI) console.error(`e2e: no docker engine, and CI=true so the e2e tests fail: ${reason}`);
    else console.log(`e2e: skipped, no docker engine: ${reason}`);
  }
  // The e2e tier is the one that wants the real engine: its PATH reaches the real docker again.
  const env: Record<string, string> = { PATH: pathWithRealDocker() };
  for (const key of ["DOCKER_HOST", "DOCKER_CONFIG"]) if (fileEnv[key]) env[key] = fileEnv[key];
  const registry = fileEnv.PROTOCOL_E2E_REGISTRY ?? "";

  const e2eTest = (name: string, body: TestBody, timeoutMs?: number) =>
    test.skipIf(!ready && !ON_CI)(
      name,
      async () => {
        if (!ready) throw new Error(`no docker engine: ${reason}`);
        await body();
      },
      timeoutMs,
    );
  e2eTest.todo = (name: string) => test.todo(name);

  const docker = (args: string[], options: { cwd?: string; input?: string } = {}) =>
    sh(["docker", ...args], { ...options, env });
  const dockerOk = async (args: string[], options: { cwd?: string; input?: string } = {}) => {
    const run = await docker(args, options);
    if (run.exitCode !== 0)
      throw new Error(`docker ${args.join(" ")} failed (exit ${run.exitCode}): ${run.stderr.trim()}`);
    return run.stdout.trim();
  };

  const self: DockerEnv = {
    ready,
    reason,
    env,
    registry,
    baseImage: fileEnv.PROTOCOL_E2E_BASE_IMAGE ?? "local/busybox:1",
    test: e2eTest,
    docker,
    dockerOk,

    async buildImage(tag, dockerfile, options = {}) {
      const dir = mkdtempSync(join(tmpdir(), "protocol-e2e-build-"));
      try {
        for (const [path, content] of Object.entries({ Dockerfile: dockerfile, ...options.files })) {
          mkdirSync(dirname(join(dir, path)), { recursive: true });
          writeFileSync(join(dir, path), content);
        }
        const buildArgs = Object.entries(options.buildArgs ?? {}).flatMap(([key, value]) => [
          "--build-arg",
          `${key}=${value}`,
        ]);
        // The engine has no buildx: the classic builder, asked for explicitly so it does not warn.
        const run = await sh(["docker", "build", "--quiet", "--tag", tag, ...buildArgs, dir], {
          env: { ...env, DOCKER_BUILDKIT: "0" },
        });
        if (run.exitCode !== 0) throw new Error(`docker build ${tag} failed: ${run.stderr.trim()}`);
        return dockerOk(["image", "inspect", "--format", "{{.Id}}", tag]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },

    async pushImage(tag) {
      await dockerOk(["push", "--quiet", tag]);
      const [repository, version] = tag.slice(registry.length + 1).split(":") as [string, string];
      const digest = await self.registryDigest(repository, version ?? "latest");
      if (!digest) throw new Error(`pushed ${tag}, but the registry has no manifest for it`);
      return digest;
    },

    async registryDigest(repository, tag) {
      const response = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
        method: "HEAD",
        headers: {
          Accept: [
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
          ].join(", "),
        },
      });
      if (response.status === 404) return null;
      if (!response.ok) throw new Error(`HEAD manifest ${repository}:${tag}: HTTP ${response.status}`);
      return response.headers.get("docker-content-digest");
    },

    async projectContainers(project) {
      const ids = (
        await dockerOk([
          "ps",
          "--all",
          "--quiet",
          "--no-trunc",
          "--filter",
          `label=com.docker.compose.project=${project}`,
        ])
      )
        .split("\n")
        .filter(Boolean);
      if (ids.length === 0) return [];
      // A container can go between ps and inspect (compose recreating it): inspect still prints the others.
      const inspect = await docker(["inspect", ...ids]);
      const inspected = JSON.parse(inspect.stdout.trim() || "[]") as any[];
      return inspected.map((c) => ({
        id: c.Id,
        name: String(c.Name).replace(/^\//, ""),
        service: c.Config.Labels["com.docker.compose.service"] ?? "",
        running: c.State.Running === true,
        image: c.Image,
        env: Object.fromEntries(
          (c.Config.Env as string[]).map((pair) => [
            pair.slice(0, pair.indexOf("=")),
            pair.slice(pair.indexOf("=") + 1),
          ]),
        ),
      }));
    },

    async removeProject(project) {
      if (!ready) return;
      const ids = (await self.projectContainers(project)).map((c) => c.id);
      if (ids.length > 0) await docker(["rm", "--force", ...ids]);
      const networks = (
        await dockerOk(["network", "ls", "--quiet", "--filter", `label=com.docker.compose.project=${project}`])
      )
        .split("\n")
        .filter(Boolean);
      if (networks.length > 0) await docker(["network", "rm", ...networks]);
    },
  };
  return self;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for host-network containers). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}
