import { existsSync } from "node:fs";
import { join } from "node:path";
import type { App } from "../app/app.ts";
import { MissingProgramError, StepFailedError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { nodeEnv } from "../core/node-env.ts";
import { hasProgram, run, type SpawnOptions, type SpawnResult, stepFailure } from "../core/spawn.ts";
import { isTerminal } from "../core/terminal.ts";

/** Compose's own default file names, in its order of preference. */
export const DEFAULT_COMPOSE_FILES = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

/** The app's compose files (docker.compose, else compose's default name found in the dir); [] when none. */
export function composeFiles(app: App): string[] {
  const configured = app.config.docker?.compose;
  if (configured) return Array.isArray(configured) ? configured : [configured];
  const found = DEFAULT_COMPOSE_FILES.find((name) => existsSync(join(app.dir, name)));
  return found ? [found] : [];
}

/** The compose project of this checkout: resolved with the app (app/project.ts), never read from the node's state here. */
export function composeProject(app: App): string {
  return app.project;
}

/** The hint for a docker call that failed where the engine is the likely cause. */
export const ENGINE_HINT = "is the docker engine running? try: docker info";

/**
 * How long a question to the engine (ps, inspect, logs, version) may go unanswered: an engine that
 * accepts and stalls must not hold a pass for ever (every pass asks it about the containers).
 * PROTOCOL_DOCKER_TIMEOUT in seconds, 30 by default.
 */
export function dockerQueryTimeoutMs(env: Record<string, string | undefined> = nodeEnv()): number {
  const seconds = Number(env.PROTOCOL_DOCKER_TIMEOUT);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : 30) * 1000;
}

/**
 * How long a long compose step (pull, up, build, push) run by a pass may print nothing: a stalled
 * engine or registry must not hold the node's loop for ever. PROTOCOL_COMPOSE_TIMEOUT in seconds,
 * 600 by default (a pull prints its progress; an `up` waits for dependencies to be healthy).
 */
export function composeIdleTimeoutMs(env: Record<string, string | undefined> = nodeEnv()): number {
  const seconds = Number(env.PROTOCOL_COMPOSE_TIMEOUT);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : 600) * 1000;
}

/** A long compose step is given up after this long in all: six times its silence limit (an hour by default). */
export function composeTotalTimeoutMs(env: Record<string, string | undefined> = nodeEnv()): number {
  return composeIdleTimeoutMs(env) * 6;
}

/** A question to the engine that got no answer in time: the infrastructure's fault, never the commit's. */
export function engineSilent(what: string, timeoutMs: number): StepFailedError {
  const error = new StepFailedError(
    `${what} got no answer from the docker engine in ${timeoutMs / 1000}s`,
    ENGINE_HINT,
  );
  error.infrastructure = true;
  return error;
}

export interface DockerOptions {
  /** Attach the terminal (builds, pushes the user watches) instead of capturing output. */
  inherit?: boolean;
  /** Log the command line first (steps the user asked for). */
  announce?: boolean;
  hint?: string;
  /** A question to the engine (ps, inspect, start): given up after dockerQueryTimeoutMs(). */
  query?: boolean;
  /** A long step (a pull): bounded as compose's long steps are, its output's tail kept. */
  long?: boolean;
}

/** One docker CLI call: its stdout, or a StepFailedError with the reason. */
export async function docker(args: string[], options: DockerOptions = {}): Promise<string> {
  if (options.announce) log.info(`running docker ${args.join(" ")}`);
  const timeoutMs = options.query ? dockerQueryTimeoutMs() : options.long ? composeTotalTimeoutMs() : undefined;
  const idleTimeoutMs = options.long ? composeIdleTimeoutMs() : undefined;
  const result = await run(["docker", ...args], {
    inherit: options.inherit,
    timeoutMs,
    idleTimeoutMs,
    tailOnly: options.long,
  });
  if (result.timedOut && timeoutMs) throw engineSilent(`docker ${args[0]}`, idleTimeoutMs ?? timeoutMs);
  if (!result.ok) throw stepFailure(`docker ${args[0]}`, result, options.hint);
  return result.stdout;
}

/** Whether the docker engine answers (the server part of `docker version`); false when docker is missing. */
export async function engineAnswers(): Promise<boolean> {
  if (!hasProgram("docker")) return false;
  return (await run(["docker", "version", "--format", "{{.Server.Version}}"], { timeoutMs: dockerQueryTimeoutMs() }))
    .ok;
}

export interface ComposeCli {
  argv: string[];
  version: 1 | 2;
}

/** One look per process, shared by concurrent callers (a failed look is not kept: it is tried again). */
let found: Promise<ComposeCli> | undefined;

async function detectCompose(): Promise<ComposeCli> {
  if (hasProgram("docker") && (await run(["docker", "compose", "version"])).ok)
    return { argv: ["docker", "compose"], version: 2 };
  if (hasProgram("docker-compose") && (await run(["docker-compose", "version"])).ok) {
    // protocol does everything with v1 too (health read with docker inspect), so this is no
    // warning on every command and deploy: said once per process, at debug; doctor's "compose v2"
    // check is where an operator is told to install the plugin.
    log.debug("using docker-compose v1 (no compose v2 plugin: protocol doctor says how to install it)");
    return { argv: ["docker-compose"], version: 1 };
  }
  throw new MissingProgramError(
    "docker compose is not installed",
    "install docker with its compose plugin: apt-get install docker.io docker-compose-plugin (or docker-compose)",
  );
}

/** `docker compose` (v2); `docker-compose` (v1), said once at debug; neither → one error saying how to install. */
export function findCompose(): Promise<ComposeCli> {
  found ??= detectCompose().catch((error) => {
    found = undefined;
    throw error;
  });
  return found;
}

export interface ComposeOptions {
  /** Attach the terminal (exec, logs, builds the user watches) instead of capturing output. */
  inherit?: boolean;
  /** Return a failed result instead of throwing: exec and logs hand the exit code on. */
  allowFailure?: boolean;
  /** Log the command line at debug level only (queries such as `config --services`). */
  quiet?: boolean;
  /** For a deploy hook's step: its environment, its time limit, its process group, its lines. */
  spawn?: Pick<SpawnOptions, "env" | "timeoutMs" | "group" | "onLine" | "tailOnly">;
}

/** compose verbs that can take minutes: their progress is worth showing at a terminal. */
export const LONG_STEPS = new Set(["pull", "up", "build", "push"]);

export async function compose(app: App, args: string[], options: ComposeOptions = {}): Promise<SpawnResult> {
  const cli = await findCompose();
  const files = composeFiles(app).flatMap((file) => ["--file", file]);
  const argv = [...cli.argv, "--project-name", composeProject(app), ...files, ...args];
  if (options.quiet) log.debug(`running ${argv.join(" ")}`);
  else log.info(`running ${argv.join(" ")}`);
  // At a terminal, the long steps show compose's own progress as it comes (still captured for the error).
  const tee = !options.inherit && LONG_STEPS.has(args[0] ?? "") && isTerminal(2);
  // Output for people (all but the quiet queries, whose stdout is read) keeps its tail only.
  const bounds =
    !options.inherit && LONG_STEPS.has(args[0] ?? "")
      ? { idleTimeoutMs: composeIdleTimeoutMs(), timeoutMs: composeTotalTimeoutMs() }
      : null;
  const result = await run(argv, {
    cwd: app.dir,
    inherit: options.inherit,
    tee,
    tailOnly: !options.quiet,
    ...(bounds ?? {}),
    ...options.spawn,
  });
  if (result.timedOut && bounds && !options.spawn?.timeoutMs) {
    const total = result.durationMs >= bounds.timeoutMs;
    throw engineSilent(
      `${cli.argv.join(" ")} ${args[0]} (${total ? "not done in time" : "nothing printed"})`,
      total ? bounds.timeoutMs : bounds.idleTimeoutMs,
    );
  }
  if (!result.ok && !options.allowFailure) {
    throw stepFailure(`${cli.argv.join(" ")} ${args[0]}`, result);
  }
  return result;
}

export async function composeDown(app: App): Promise<void> {
  await compose(app, ["down"]);
}
