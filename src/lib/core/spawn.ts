import { existsSync } from "node:fs";
import { drain, lineSplitter, Tail } from "./bounded.ts";
import { describeFailure, diagnose } from "./causes.ts";
import { MissingProgramError, StepFailedError } from "./errors.ts";
import { log } from "./log.ts";
import { nodeEnv } from "./node-env.ts";
import { adoptGroup, killGroup, releaseGroup } from "./process-groups.ts";

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
  /** Kill it after this long in all (a deploy hook's timeout): SIGTERM to its group, SIGKILL 5 s later. */
  timeoutMs?: number;
  /**
   * Run it in a process group of its own, so a limit kills everything it started. The default when
   * it has a time limit (idleTimeoutMs or timeoutMs) and is not attached to the terminal.
   */
  group?: boolean;
  /** Each line of its stdout and stderr as it arrives (a hook's output into the node's log), cut at 4 KB. */
  onLine?: (line: string) => void;
  /** Keep only the last 64 KB of its stdout (output for people: hooks, compose); never fails for size. */
  tailOnly?: boolean;
  /** Otherwise stdout is kept whole up to this many bytes (32 MB); past it the child is killed and the run fails. */
  maxStdoutBytes?: number;
  /** Kill it (SIGKILL, its group when `group`) when this aborts: a caller's own reason to stop it. */
  signal?: AbortSignal;
}

export interface SpawnResult {
  argv: string[];
  exitCode: number;
  signal: string | null;
  stdout: string;
  /** Its last 64 KB. */
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

/** After the child exits, how long its pipes may stay open (held by something it left behind). */
const PIPE_GRACE_MS = 2_000;

/** Stdout kept whole is cut off (the child killed, the run failed) past this size. */
export const STDOUT_MAX_BYTES = 32 * 1024 * 1024;

/** Run a program with an argument array (never a shell) and collect its result. */
export async function run(argv: string[], options: SpawnOptions = {}): Promise<SpawnResult> {
  const started = performance.now();
  // Anything with a time limit runs in a group of its own, so the limit kills what it started too
  // (git's remote helper, a hook's sleep) and not only the direct child.
  const group = !options.inherit && (options.group ?? Boolean(options.idleTimeoutMs || options.timeoutMs));
  let child: Bun.Subprocess<"pipe" | "ignore" | "inherit", "pipe" | "inherit", "pipe" | "inherit">;
  try {
    child = Bun.spawn(argv, {
      cwd: options.cwd,
      env: baseEnv(options.env),
      stdin: options.inherit ? "inherit" : options.input !== undefined ? "pipe" : "ignore",
      stdout: options.inherit ? "inherit" : "pipe",
      stderr: options.inherit ? "inherit" : "pipe",
      ...(group ? { detached: true } : {}),
    });
  } catch (error) {
    throw asMissingProgram(argv[0] ?? "", error, options.cwd);
  }
  if (group) adoptGroup(child.pid);
  const killAll = (signal: NodeJS.Signals) => {
    if (group) killGroup(child.pid, signal);
    else {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  };
  // Ctrl-C on an attached terminal reaches the child too; protocol waits for the child's exit code
  // instead of dying first and leaving it behind.
  const ignoreInterrupt = () => undefined;
  if (options.inherit) process.on("SIGINT", ignoreInterrupt);
  if (options.input !== undefined && child.stdin && typeof child.stdin !== "number") {
    try {
      await child.stdin.write(options.input);
      await child.stdin.end();
    } catch {
      // It exited without reading its input (EPIPE): its exit code and stderr say why.
    }
  }

  let timedOut = false;
  let overflowed = false;
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
        setTimeout(() => {
          killAll("SIGKILL");
          if (group) releaseGroup(child.pid);
        }, 5_000).unref();
      }, options.timeoutMs)
    : undefined;
  const lines = options.onLine ? lineSplitter(options.onLine) : null;
  const stdoutTail = options.tailOnly ? new Tail() : null;
  const stdoutWhole: Uint8Array[] = [];
  let stdoutBytes = 0;
  const stderrTail = new Tail();
  const readers = [
    child.stdout instanceof ReadableStream
      ? drain(child.stdout, (chunk) => {
          arm();
          lines?.out(chunk);
          if (stdoutTail) return stdoutTail.push(chunk);
          stdoutBytes += chunk.length;
          if (stdoutBytes <= (options.maxStdoutBytes ?? STDOUT_MAX_BYTES)) stdoutWhole.push(chunk);
          else if (!overflowed) {
            overflowed = true;
            killAll("SIGKILL");
          }
        })
      : null,
    child.stderr instanceof ReadableStream
      ? drain(child.stderr, (chunk) => {
          arm();
          lines?.err(chunk);
          stderrTail.push(chunk);
          if (options.tee) process.stderr.write(chunk);
        })
      : null,
  ].filter((reader) => reader !== null);
  await child.exited;
  // A group told to stop (SIGTERM) stays owed its SIGKILL: if protocol exits first, at its exit.
  if (group && !(timedOut && options.timeoutMs)) releaseGroup(child.pid);
  // What the child left behind may hold its pipes open for ever: read what is there, then stop.
  let grace: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(readers.map((reader) => reader.done)),
    new Promise<void>((resolve) => {
      grace = setTimeout(resolve, PIPE_GRACE_MS);
    }),
  ]);
  clearTimeout(grace);
  for (const reader of readers) reader.cancel();
  clearTimeout(timer);
  clearTimeout(deadline);
  options.signal?.removeEventListener("abort", abort);
  lines?.flush();
  if (options.inherit) process.off("SIGINT", ignoreInterrupt);
  const exitCode = child.exitCode ?? 128;
  const stdout = stdoutTail ? stdoutTail.text() : new TextDecoder().decode(Buffer.concat(stdoutWhole));
  let stderr = stderrTail.text();
  if (overflowed)
    stderr += `\nit printed more than ${(options.maxStdoutBytes ?? STDOUT_MAX_BYTES) / 1024 / 1024} MB: stopped by protocol`;
  if (exitCode !== 0 && log.level >= 4) {
    // --verbose: the failing step whole, its argv and every line of its stderr (its tail).
    log.debug(`${argv.join(" ")} exited ${child.signalCode ?? exitCode}${timedOut ? " (killed: its time limit)" : ""}`);
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
    ok: exitCode === 0 && !timedOut && !overflowed,
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
