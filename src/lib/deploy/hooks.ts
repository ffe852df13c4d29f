/**
 * Deploy hooks (deploy.hooks in protocol.json): commands around a deploy, run in order, each on the
 * host in the app dir or in a service container (`docker compose exec -T`). A step gets the
 * deploy's facts in its environment (PROTOCOL_FROM, _TO, _REASON, _NODE_ID, _ENV, _DIR; the app's
 * .env only with `"env": "app"`), never in its argv; its output goes to the node's log, prefixed;
 * past its timeout it is killed with its whole process group. The first step that fails stops its
 * point: what that means for the deploy is the caller's (see the README's failure table).
 */
import { hostname } from "node:os";
import type { App } from "../app/app.ts";
import { effectiveEnv } from "../config-repo/env.ts";
import { errorMessage, MissingProgramError, StepFailedError } from "../core/errors.ts";
import { MAX_REPO_FILE_BYTES } from "../core/fs.ts";
import { log } from "../core/log.ts";
import { run, type SpawnResult } from "../core/spawn.ts";
import { compose } from "../docker/docker.ts";
import { DOTENV_FILE, DOTENV_HINT, readDotenv } from "../docker/login.ts";
import { nodeIdentity } from "../fleet/identity.ts";
import type { GitContext } from "../git/git.ts";
import type { ProtocolJson } from "../schema/protocol-json.ts";
import type { HookRun } from "../schema/state.ts";
import { assertReadableAfterMove } from "./file-after-move.ts";

export const HOOK_POINTS = ["beforeMove", "afterUp", "afterHealthy", "afterRollback"] as const;
export type HookPoint = (typeof HOOK_POINTS)[number];

export const DEFAULT_HOOK_TIMEOUT_S = 300;

export interface HookFacts {
  from: string | null;
  to: string;
  reason: string;
}

/**
 * A hook step failed (its exit code, or its timeout): the commit's fault, unless it was a service
 * step and the engine does not answer (the deploy then counts it as the infrastructure's).
 */
export class HookFailedError extends StepFailedError {
  constructor(
    message: string,
    hint: string,
    /** The compose service the step ran in; null for a host step. */
    readonly service: string | null,
  ) {
    super(message, hint);
  }
}

function nodeId(): string {
  try {
    return nodeIdentity().id;
  } catch {
    return hostname();
  }
}

/** The environment a step adds to protocol's own. Pure but for the node's id and env. */
export function hookEnv(app: App, facts: HookFacts): Record<string, string> {
  return {
    PROTOCOL_FROM: facts.from ?? "",
    PROTOCOL_TO: facts.to,
    PROTOCOL_REASON: facts.reason,
    PROTOCOL_NODE_ID: nodeId(),
    PROTOCOL_ENV: effectiveEnv(app) ?? "",
    PROTOCOL_DIR: app.dir,
  };
}

/** Which steps of one deploy ran already, and how a step that passed is recorded (by the caller, durably). */
export interface HookProgress {
  /** "point:step" keys of this deploy's steps that finished before it was cut short: never run twice. */
  done: ReadonlySet<string>;
  /** Called after a step passed, before the next one starts. */
  onDone(key: string): void;
}

export function hookSteps(app: Pick<App, "config">, point: HookPoint) {
  return app.config.deploy?.hooks?.[point] ?? [];
}

/**
 * Before the working copy moves to `rev` (or, on a redeploy, before up): the .env that steps with
 * `"env": "app"` in `config` (the commit's protocol.json) will read, checked as they will read it,
 * so a link to /dev/zero or a huge file is refused by name while nothing has moved.
 */
export async function assertHookEnvAt(ctx: GitContext, rev: string, config: ProtocolJson): Promise<void> {
  if (!HOOK_POINTS.some((point) => hookSteps({ config }, point).some((step) => step.env === "app"))) return;
  await assertReadableAfterMove(ctx, rev, DOTENV_FILE, { cap: MAX_REPO_FILE_BYTES, hint: DOTENV_HINT });
}

/**
 * Run the steps of `point` in order, appending each to `runs`; the first that fails throws
 * HookFailedError (the steps after it do not run). No steps: nothing runs, nothing is logged.
 */
export async function runHooks(
  app: App,
  point: HookPoint,
  facts: HookFacts,
  runs: HookRun[],
  progress: HookProgress,
  /** "point:n" → the argv a step runs instead: its scripts as the incoming commit has them (hooks-incoming.ts). */
  incomingArgv: ReadonlyMap<string, string[]> = new Map(),
): Promise<void> {
  const steps = hookSteps(app, point);
  for (const [index, step] of steps.entries()) {
    const label = `hook ${point}[${index + 1}]`;
    const key = `${point}:${index + 1}`;
    if (progress.done.has(key)) {
      // Never twice for one deploy: it ran before protocol was cut short (kill -9, a reboot).
      log.info(`${label}: already ran for this deploy before protocol was interrupted; skipped`);
      continue;
    }
    const facts$ = hookEnv(app, facts);
    // The app's .env first: the deploy's facts are protocol's and win.
    const env = { ...(step.env === "app" ? (readDotenv(app.dir)?.values ?? {}) : {}), ...facts$ };
    const timeoutMs = (step.timeout ?? DEFAULT_HOOK_TIMEOUT_S) * 1000;
    const spawn = {
      env,
      timeoutMs,
      group: true,
      tailOnly: true,
      onLine: (line: string) => log.info(`${label}: ${line}`),
    };
    const command = step.run.join(" ");
    const argv = incomingArgv.get(key);
    const incoming = argv ? " (its script as the incoming commit has it)" : "";
    log.info(`${label}: running ${command}${step.service ? ` in ${step.service}` : ""}${incoming}`);
    const started = Date.now();
    let result: SpawnResult | null = null;
    let failure: string | null = null;
    try {
      result = step.service
        ? await compose(
            app,
            // Each variable by name only: compose takes its value from the environment, so no value is in an argv.
            ["exec", "-T", ...Object.keys(env).flatMap((name) => ["-e", name]), step.service, ...step.run],
            { allowFailure: true, quiet: true, spawn },
          )
        : await run(argv ?? step.run, { cwd: app.dir, ...spawn });
    } catch (error) {
      failure = error instanceof MissingProgramError ? `${step.run[0]} was not found` : errorMessage(error);
    }
    const entry: HookRun = {
      point,
      step: index + 1,
      command,
      service: step.service ?? null,
      exitCode: result?.exitCode ?? null,
      durationMs: Date.now() - started,
      timedOut: result?.timedOut ?? false,
    };
    runs.push(entry);
    if (result?.timedOut) failure = `killed after ${timeoutMs / 1000}s (its timeout), with its process group`;
    else if (result && !result.ok) failure = `exit ${result.exitCode}`;
    if (failure) {
      throw new HookFailedError(
        `${label} (${command}) failed: ${failure}`,
        `see protocol logs; fix the step or its timeout in deploy.hooks.${point}`,
        step.service ?? null,
      );
    }
    progress.onDone(key);
    log.info(`${label}: done in ${(entry.durationMs / 1000).toFixed(1)}s`);
  }
}

export interface PlannedStep {
  point: HookPoint;
  step: number;
  where: string;
  command: string;
  timeoutSeconds: number;
  /** "app": the app's .env joins the environment. */
  env: "app" | null;
}

/** What the next deploy runs, from the protocol.json on disk (the deploy of a new commit reads its own for afterUp on). */
export function hookPlan(app: App): { steps: PlannedStep[]; environment: string[] } {
  const steps = HOOK_POINTS.flatMap((point) =>
    hookSteps(app, point).map((step, index) => ({
      point,
      step: index + 1,
      where: step.service ? `service ${step.service}` : "host",
      command: step.run.join(" "),
      timeoutSeconds: step.timeout ?? DEFAULT_HOOK_TIMEOUT_S,
      env: step.env ?? null,
    })),
  );
  return { steps, environment: Object.keys(hookEnv(app, { from: null, to: "", reason: "" })) };
}
