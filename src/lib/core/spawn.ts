import { existsSync } from "node:fs";
import { describeFailure, diagnose } from "./causes.ts";
import { MissingProgramError, StepFailedError } from "./errors.ts";
import { log } from "./log.ts";
import { nodeEnv } from "./node-env.ts";

/** The install hint shown when a program protocol needs is not on PATH. */
const INSTALL_HINTS: Record<string, string> = {
  git: "install git: apt-get install git (Debian/Ubuntu), apk add git (Alpine), xcode-select --install (macOS)",
  docker: "install docker: https://docs.docker.com/engine/install/ (or apt-get install docker.io)",
  crontab: "install cron: apt-get install cron (Debian/Ubuntu), apk add cronie (Alpine)",
};

export interface SpawnOptions {
  cwd?: string;
  /** Added to the base environment (which already has LC_ALL=C and GIT_TERMINAL_PROMPT=0). */
  env?: Record<string, string | undefined>;
  /** Data written to the child's stdin; secrets go here or in env, never in argv. */
  input?: string;
  /** Kill the child when it prints nothing for this long (network git); not a total timeout. */
  idleTimeoutMs?: number;
  /** Inherit the terminal instead of capturing (interactive commands). */
  inherit?: boolean;
  /** Also show the child's stderr as it arrives (progress of a long step at a terminal); still captured. */
  tee?: boolean;
  /** Its output may hold a secret (a credential helper): --verbose never prints its stderr. */
  quiet?: boolean;
  /** Kill it after this long in all (a deploy hook's timeout), with its whole process group when `group`. */
  timeoutMs?: number;
  /** Run it in a process group of its own, so a timeout kills everything it started. */
  group?: boolean;
  /** Each line of its stdout and stderr as it arrives (a hook's output into the node's log). */
  onLine?: (line: string) => void;
  /** Kill it (SIGKILL, its group when `group`) when this aborts: a caller's own reason to stop it. */
  signal?: AbortSignal;
}

export interface SpawnResult {
  argv: string[];
  exitCode: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  ok: boolean;
  /** True when the child was killed by idleTimeoutMs. */
  timedOut: boolean;
}

/**
 * How the background loop's runtime is tuned (see LOOP_RUNTIME_ENV in node/daemon.ts): its own, never
 * handed on to what it runs (git, docker, a deploy hook written in JavaScript).
 */
const RUNTIME_ONLY = ["BUN_JSC_useJIT"];

export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  const inherited = { ...nodeEnv() };
  for (const name of RUNTIME_ONLY) delete inherited[name];
  for (const [key, value] of Object.entries({ ...inherited, LC_ALL: "C", GIT_TERMINAL_PROMPT: "0", ...extra })) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

async function readStream(stream: ReadableStream<Uint8Array>, onChunk: (chunk: Uint8Array) => void): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    onChunk(chunk);
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

/** Whole lines of two streams, each passed on as soon as it ends; a last partial line at flush. */
function lineSplitter(onLine: (line: string) => void) {
  const decoders = { out: new TextDecoder(), err: new TextDecoder() };
  const rest = { out: "", err: "" };
  const feed = (which: "out" | "err") => (chunk: Uint8Array) => {
    const parts = (rest[which] + decoders[which].decode(chunk, { stream: true })).split("\n");
    rest[which] = parts.pop() ?? "";
    for (const part of parts) onLine(part);
  };
  return {
    out: feed("out"),
    err: feed("err"),
    flush() {
      for (const which of ["out", "err"] as const) if (rest[which]) onLine(rest[which]);
    },
  };
}

/** Run a program with an argument array (never a shell) and collect its result. */
export async function run(argv: string[], options: SpawnOptions = {}): Promise<SpawnResult> {
  const started = performance.now();
  let child: Bun.Subprocess<"pipe" | "ignore" | "inherit", "pipe" | "inherit", "pipe" | "inherit">;
  try {
    child = Bun.spawn(argv, {
      cwd: options.cwd,
      env: baseEnv(options.env),
      stdin: options.inherit ? "inherit" : options.input !== undefined ? "pipe" : "ignore",
      stdout: options.inherit ? "inherit" : "pipe",
      stderr: options.inherit ? "inherit" : "pipe",
      ...(options.group ? { detached: true } : {}),
    });
  } catch (error) {
    throw asMissingProgram(argv[0] ?? "", error, options.cwd);
  }
  const killAll = (signal: NodeJS.Signals) => {
    try {
      if (options.group) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      // already gone
    }
  };
  // Ctrl-C on an attached terminal reaches the child too; protocol waits for the child's exit code
  // instead of dying first and leaving it behind.
  const ignoreInterrupt = () => undefined;
  if (options.inherit) process.on("SIGINT", ignoreInterrupt);
  if (options.input !== undefined && child.stdin && typeof child.stdin !== "number") {
    child.stdin.write(options.input);
    await child.stdin.end();
  }

  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    if (!options.idleTimeoutMs) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      killAll("SIGKILL");
    }, options.idleTimeoutMs);
  };
  arm();
  const abort = () => killAll("SIGKILL");
  if (options.signal?.aborted) abort();
  else options.signal?.addEventListener("abort", abort, { once: true });
  // The total limit: SIGTERM to the group, SIGKILL 5 s later for what ignored it.
  const deadline = options.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        killAll("SIGTERM");
        setTimeout(() => killAll("SIGKILL"), 5_000).unref();
      }, options.timeoutMs)
    : undefined;
  const lines = options.onLine ? lineSplitter(options.onLine) : null;
  const [stdout, stderr] = await Promise.all([
    child.stdout instanceof ReadableStream
      ? readStream(child.stdout, (chunk) => {
          arm();
          lines?.out(chunk);
        })
      : "",
    child.stderr instanceof ReadableStream
      ? readStream(child.stderr, (chunk) => {
          arm();
          lines?.err(chunk);
          if (options.tee) process.stderr.write(chunk);
        })
      : "",
    child.exited,
  ]);
  clearTimeout(timer);
  clearTimeout(deadline);
  options.signal?.removeEventListener("abort", abort);
  lines?.flush();
  if (options.inherit) process.off("SIGINT", ignoreInterrupt);
  const exitCode = child.exitCode ?? 128;
  if (exitCode !== 0 && log.level >= 4) {
    // --verbose: the failing step whole, its argv and every line of its stderr.
    log.debug(`${argv.join(" ")} exited ${child.signalCode ?? exitCode}${timedOut ? " (killed: no output)" : ""}`);
    if (!options.quiet)
      for (const line of stderr.split("\n").filter((text) => text.trim() !== "")) log.debug(`  ${line}`);
  }
  return {
    argv,
    exitCode,
    signal: child.signalCode === null ? null : String(child.signalCode),
    stdout,
    stderr,
    durationMs: performance.now() - started,
    ok: exitCode === 0 && !timedOut,
    timedOut,
  };
}

export interface DetachedOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** File descriptor that receives stdout and stderr. */
  logFd: number;
}

/** Start a program in its own session, outliving this process (the background slave loop). */
export function spawnDetached(argv: string[], options: DetachedOptions): { pid: number; exited: Promise<number> } {
  try {
    const child = Bun.spawn(argv, {
      cwd: options.cwd,
      env: baseEnv(options.env),
      stdio: ["ignore", options.logFd, options.logFd],
      detached: true,
    });
    child.unref();
    return { pid: child.pid, exited: child.exited };
  } catch (error) {
    throw asMissingProgram(argv[0] ?? "", error, options.cwd);
  }
}

function asMissingProgram(program: string, error: unknown, cwd?: string): Error {
  const code = (error as { code?: string }).code;
  // Bun reports a missing cwd as ENOENT too; do not blame the program for it.
  if (code === "ENOENT" && cwd && !existsSync(cwd)) return new MissingProgramError(`directory ${cwd} does not exist`);
  if (code === "ENOENT" || code === "EACCES") {
    const name = program.split("/").pop() ?? program;
    return new MissingProgramError(
      `${name} is not installed (or not on PATH)`,
      INSTALL_HINTS[name] ?? `install ${name}`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Why a program failed, for a one-line error: a known cause, else the meaningful tail of stderr, else the exit. */
export function failureReason(result: Pick<SpawnResult, "stderr" | "exitCode"> & { signal?: string | null }): string {
  return describeFailure(result.stderr, result.exitCode, result.signal ?? null);
}

/**
 * The error for a step that failed: `<what> failed: <reason>`, the known cause's hint before the
 * caller's, and whether it is infrastructure (a known cause that is, or a program killed by a
 * signal) rather than the commit's fault.
 */
export function stepFailure(
  what: string,
  result: Pick<SpawnResult, "stderr" | "exitCode" | "signal">,
  hint?: string,
): StepFailedError {
  const cause = diagnose(result.stderr);
  const error = new StepFailedError(
    `${what} failed: ${failureReason(result)}`,
    [cause?.hint, hint].filter(Boolean).join("; ") || undefined,
  );
  error.infrastructure = (cause?.infrastructure ?? false) || result.signal !== null;
  return error;
}

/** Whether a program can be found on PATH, without running it. */
export function hasProgram(name: string): boolean {
  return Bun.which(name, { PATH: nodeEnv().PATH ?? "" }) !== null;
}
