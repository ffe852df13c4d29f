/**
 * The fake docker's stateful engine (FAKE_DOCKER_STATE; test/fixtures/fake-docker/docker says what it
 * does) for tests: a state file, the env that puts it in use, and what a person does to the containers
 * behind protocol's back (docker stop, kill, rm). Those run the fake itself, by its path (never a
 * docker found on PATH), with no FAKE_DOCKER_LOG: the log keeps only protocol's calls.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { FAKE_DOCKER_DIR, type Run, sh } from "./fixture.ts";

export const FAKE_DOCKER = join(FAKE_DOCKER_DIR, "docker");

/** What tests read of a container (the fake's `docker inspect` has the rest, in `inspect`). */
export interface FakeContainer {
  id: string;
  name: string;
  project: string;
  service: string;
  image: string;
  status: string;
  running: boolean;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  health: string | null;
  inspect: Record<string, any>;
}

export interface FakeEngineScript {
  /** FAKE_DOCKER_SERVICES: the services (default: the compose file's). */
  services?: string[];
  /** FAKE_DOCKER_CRASH: service or image → exit code, or "code@seconds" to die that long after its start. */
  crash?: Record<string, number | string>;
  /** FAKE_DOCKER_HEALTH: service or image → starting, healthy or unhealthy. */
  health?: Record<string, "starting" | "healthy" | "unhealthy">;
}

const pairs = (table: Record<string, number | string>) =>
  Object.entries(table)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");

/** Create the state file (no containers) at `path`; returns the engine that uses it. */
export function createFakeEngine(path: string): FakeEngine {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ containers: [], crashes: {} })}\n`);
  return new FakeEngine(path);
}

export class FakeEngine {
  constructor(readonly statePath: string) {}

  /** The variables that make the fake docker stateful, with this script: pass them to fx.cli's env. */
  env(script: FakeEngineScript = {}): Record<string, string> {
    return {
      FAKE_DOCKER_STATE: this.statePath,
      FAKE_DOCKER_SERVICES: (script.services ?? []).join(","),
      FAKE_DOCKER_CRASH: pairs(script.crash ?? {}),
      FAKE_DOCKER_HEALTH: pairs(script.health ?? {}),
    };
  }

  /** Run the fake docker on this state, as someone at the machine would run docker. */
  docker(args: string[], options: { cwd?: string; script?: FakeEngineScript } = {}): Promise<Run> {
    return sh([process.execPath, FAKE_DOCKER, ...args], {
      cwd: options.cwd,
      env: { FAKE_DOCKER_LOG: undefined, FAKE_DOCKER_CONTAINERS: undefined, ...this.env(options.script) },
    });
  }

  private async dockerOk(args: string[]): Promise<string> {
    const run = await this.docker(args);
    if (run.exitCode !== 0) throw new Error(`fake docker ${args.join(" ")} failed: ${run.stderr.trim()}`);
    return run.stdout;
  }

  /** The project's containers (all of them, any state), as `docker ps --filter label=…` + `inspect` show them. */
  async containers(project: string): Promise<FakeContainer[]> {
    const label = `label=com.docker.compose.project=${project}`;
    const ids = (await this.dockerOk(["ps", "--all", "--quiet", "--no-trunc", "--filter", label]))
      .split("\n")
      .filter(Boolean);
    if (ids.length === 0) return [];
    const inspected = JSON.parse(await this.dockerOk(["inspect", "--type", "container", ...ids])) as any[];
    return inspected.map((c) => ({
      id: c.Id,
      name: String(c.Name).replace(/^\//, ""),
      project: c.Config.Labels["com.docker.compose.project"],
      service: c.Config.Labels["com.docker.compose.service"],
      image: c.Config.Image,
      status: c.State.Status,
      running: c.State.Running,
      exitCode: c.State.ExitCode,
      startedAt: c.State.StartedAt,
      finishedAt: c.State.FinishedAt,
      health: c.State.Health?.Status ?? null,
      inspect: c,
    }));
  }

  /** The service's container in the project, if it has one. */
  async container(project: string, service: string): Promise<FakeContainer | undefined> {
    return (await this.containers(project)).find((c) => c.service === service);
  }

  private async act(verb: string[], project: string, service: string): Promise<FakeContainer> {
    const container = await this.container(project, service);
    if (!container) throw new Error(`fake docker: project ${project} has no ${service} container`);
    await this.dockerOk([...verb, container.id]);
    return container;
  }

  /** `docker stop` the service's container: it exits with code 0. */
  stop(project: string, service: string): Promise<FakeContainer> {
    return this.act(["stop"], project, service);
  }

  /** `docker kill` the service's container: it exits with code 137 (SIGKILL, the OOM killer). */
  kill(project: string, service: string): Promise<FakeContainer> {
    return this.act(["kill"], project, service);
  }

  /** `docker rm -f` the service's container: it is missing. */
  remove(project: string, service: string): Promise<FakeContainer> {
    return this.act(["rm", "--force"], project, service);
  }
}

/** The argv lines FAKE_DOCKER_LOG recorded ([] before the first call). */
export function dockerLog(logPath: string): string[][] {
  try {
    return readFileSync(logPath, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  } catch {
    return [];
  }
}

/** compose's subcommand in a logged argv, found as the fake finds it (the first word not after a --flag). */
export function composeVerb(argv: string[]): string | undefined {
  if (argv[0] !== "compose") return undefined;
  return argv.find((arg, i) => i > 0 && !arg.startsWith("-") && !argv[i - 1]?.startsWith("--"));
}

/** How many `compose … up` calls FAKE_DOCKER_LOG recorded. */
export function upCalls(logPath: string): number {
  return dockerLog(logPath).filter((argv) => composeVerb(argv) === "up").length;
}

/** How many times containers were started: `compose … up` (deploys, missing services) and `docker start` (heals). */
export function startCalls(logPath: string): number {
  return dockerLog(logPath).filter((argv) => composeVerb(argv) === "up" || argv[0] === "start").length;
}
