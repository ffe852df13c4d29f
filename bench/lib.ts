/**
 * Shared helpers for the benchmark scripts: isolated workspaces, process control, statistics and
 * the result format that bench/run.ts turns into RESULTS.md (remote.ts has the git side).
 * Bun.spawn is used freely here (bench/ is not src/).
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..");
export const BIN = join(ROOT, "dist", "protocol");
export const CACHE = join(import.meta.dir, ".cache");
const CLK_TCK = 100;

export const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

// ---------------------------------------------------------------- workspace and cleanup

const open = new Set<Workspace>();

/** A temp dir with its own PROTOCOL_HOME, HOME, git config and fake crontab; close() undoes everything. */
export class Workspace {
  readonly root: string;
  readonly env: Record<string, string>;
  private cleanups: (() => unknown)[] = [];

  constructor(name: string) {
    const base = process.env.BENCH_TMP ?? tmpdir();
    mkdirSync(base, { recursive: true });
    this.root = mkdtempSync(join(base, `protocol-bench-${name}-`));
    const bin = join(this.root, "bin");
    mkdirSync(bin);
    mkdirSync(join(this.root, "home"));
    // The real crontab must never be touched: a fake one comes first on PATH.
    copyFileSync(join(ROOT, "test", "fixtures", "bin", "crontab"), join(bin, "crontab"));
    chmodSync(join(bin, "crontab"), 0o755);
    const gitconfig = join(this.root, "gitconfig");
    writeFileSync(
      gitconfig,
      "[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n",
    );
    this.env = {
      PATH: `${bin}:${join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      HOME: join(this.root, "home"),
      PROTOCOL_HOME: join(this.root, "state"),
      FAKE_CRONTAB: join(this.root, "crontab.txt"),
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: gitconfig,
      GIT_TERMINAL_PROMPT: "0",
      LC_ALL: "C",
      NO_COLOR: "1",
    };
    open.add(this);
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** Run `fn` at close(), last registered first. */
  defer(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  async close(): Promise<void> {
    open.delete(this);
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        console.error(`cleanup: ${(error as Error).message}`);
      }
    }
    this.cleanups = [];
    rmSync(this.root, { recursive: true, force: true });
  }
}

async function closeAll(code: number): Promise<never> {
  for (const ws of [...open]) await ws.close();
  process.exit(code);
}
process.on("SIGINT", () => void closeAll(130));
process.on("SIGTERM", () => void closeAll(143));

// ---------------------------------------------------------------- processes

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  /** user+sys CPU of the process and the children it waited for, in ms. */
  cpuMs: number;
}

export async function run(
  argv: string[],
  opts: { cwd?: string; env?: Record<string, string>; allowFail?: boolean } = {},
): Promise<Ran> {
  const started = performance.now();
  const child = Bun.spawn(argv, { cwd: opts.cwd, env: opts.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  const ms = performance.now() - started;
  const code = child.exitCode ?? 128;
  if (code !== 0 && !opts.allowFail) throw new Error(`${argv.join(" ")} exited ${code}: ${stderr.trim()}`);
  const cpuMs = Number(child.resourceUsage()?.cpuTime.total ?? 0n) / 1000;
  return { code, stdout, stderr, ms, cpuMs };
}

/** Start a long-running process in its own process group; close() kills the group. */
export function spawnGroup(
  ws: Workspace,
  argv: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): number {
  const child = Bun.spawn(argv, {
    cwd: opts.cwd,
    env: opts.env ?? ws.env,
    stdio: ["ignore", "ignore", "ignore"],
    detached: true,
  });
  child.unref();
  ws.defer(() => killGroup(child.pid));
  return child.pid;
}

/** Gone or a zombie: PID 1 here reaps slowly, so kill -0 is not enough. */
export function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return true;
  }
}

export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (isGone(pid)) return true;
    await Bun.sleep(20);
  }
  return isGone(pid);
}

export async function killGroup(pid: number): Promise<void> {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone
    }
    if ((await waitGone(pid, 5_000)) && signal === "SIGTERM") {
      await Bun.sleep(50); // let the group's other members (sleep, git) take the signal too
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // nobody left
      }
      return;
    }
  }
}

export async function killPid(pid: number): Promise<void> {
  if (isGone(pid)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  if (!(await waitGone(pid, 10_000))) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
    await waitGone(pid, 5_000);
  }
}

/** CPU seconds of a process (utime+stime) and of its waited-for children (cutime+cstime). */
export function cpuTimes(pid: number): { own: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime..cstime are fields 14..17
  return {
    own: (Number(fields[11]) + Number(fields[12])) / CLK_TCK,
    children: (Number(fields[13]) + Number(fields[14])) / CLK_TCK,
  };
}

export function cpuSeconds(pid: number): number {
  const { own, children } = cpuTimes(pid);
  return own + children;
}

export function rssKb(pid: number): number {
  const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) : NaN;
}

/** VmRSS split: RssAnon (heaps) and RssFile (pages of the executable and libraries mapped in), in KB. */
export function rssPartsKb(pid: number): { anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { anon: field("RssAnon"), file: field("RssFile") };
}

/**
 * Drop a file's pages from the page cache (written back first). The RSS of a compiled Bun program
 * is mostly its executable's pages, and how many of them a process maps depends on what the page
 * cache holds (a fault maps the cached pages around it too): a binary just written or read whole
 * maps up to 5 MB more than one read back in by the faults. Dropped before a memory figure starts,
 * protocol and its floor begin from the same state.
 */
export async function dropFromPageCache(file: string): Promise<void> {
  await run(["sync", "--", file]);
  await run(["dd", `if=${file}`, "iflag=nocache", "count=0", "status=none"]);
}

/** Peak RSS (KB) and wall time of one run, measured by GNU time (Bun's rusage counts the parent's pages). */
export async function timeRss(
  argv: string[],
  opts: { cwd?: string; env: Record<string, string> },
): Promise<{ rssKb: number; ms: number }> {
  const out = join(opts.env.HOME ?? tmpdir(), `time-${process.pid}.txt`);
  const ran = await run(["/usr/bin/time", "-o", out, "-f", "%M", ...argv], opts);
  return { rssKb: Number(readFileSync(out, "utf8").trim().split("\n").pop()), ms: ran.ms };
}

export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, stepMs = 5): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(stepMs);
  }
  return false;
}

// ---------------------------------------------------------------- fake docker

/** Puts the fake docker's scripted answers in files, so a loop already running sees them change. */
const FAKE_DOCKER_WRAPPER = `#!/usr/bin/env bash
# bench: the test fake docker, with FAKE_DOCKER_CONTAINERS/IMAGES read from files on every call.
dir=\${0%/*}
[ -f "$dir/containers.json" ] && export FAKE_DOCKER_CONTAINERS="$(<"$dir/containers.json")"
[ -f "$dir/images.json" ] && export FAKE_DOCKER_IMAGES="$(<"$dir/images.json")"
exec "$dir/fake-docker" "$@"
`;

export interface FakeDocker {
  /** The directory holding `docker`: put it first on PATH. */
  dir: string;
  /** Env for a process using this fake (PATH first, its own log). */
  env: Record<string, string>;
  /** Every call logged so far, one argv each. */
  calls(): string[][];
  /** How many `compose … up` calls the log holds so far. */
  ups(): number;
  /** What `ps`/`inspect` and `image inspect` answer from now on. */
  answer(containers: unknown[], images: unknown[]): void;
}

/** The recording fake docker of test/fixtures (copied, not changed) behind a wrapper that reads its answers from files. */
export function fakeDocker(ws: Workspace, name: string): FakeDocker {
  const dir = ws.path(`docker-${name}`);
  mkdirSync(dir);
  copyFileSync(join(ROOT, "test", "fixtures", "fake-docker", "docker"), join(dir, "fake-docker"));
  chmodSync(join(dir, "fake-docker"), 0o755);
  writeFileSync(join(dir, "docker"), FAKE_DOCKER_WRAPPER, { mode: 0o755 });
  const log = join(dir, "calls.jsonl");
  writeFileSync(log, "");
  const calls = () =>
    readFileSync(log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string[]);
  return {
    dir,
    env: { ...ws.env, PATH: `${dir}:${ws.env.PATH}`, FAKE_DOCKER_LOG: log },
    calls,
    ups: () => calls().filter((argv) => argv[0] === "compose" && argv.includes("up")).length,
    answer(containers, images) {
      // Written whole then renamed, so a docker call never reads half a file.
      for (const [file, value] of [
        ["containers.json", containers],
        ["images.json", images],
      ] as const) {
        writeFileSync(join(dir, `${file}.tmp`), JSON.stringify(value));
        renameSync(join(dir, `${file}.tmp`), join(dir, file));
      }
    },
  };
}

// ---------------------------------------------------------------- statistics and results

export interface Stats {
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
  mean: number;
}

export function stats(values: number[]): Stats {
  const xs = [...values].sort((a, b) => a - b);
  const at = (q: number) => xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))] ?? NaN;
  const mid = xs.length % 2 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2;
  return {
    n: xs.length,
    median: mid,
    p95: at(0.95),
    min: xs[0] ?? NaN,
    max: xs.at(-1) ?? NaN,
    mean: xs.reduce((a, b) => a + b, 0) / xs.length,
  };
}

export const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
export const ratio = (p: number, f: number) => (f > 0 && Number.isFinite(p) ? p / f : null);
export const list = (xs: number[], digits = 0) => xs.map((x) => fmt(x, digits)).join(" ");

export interface Row {
  metric: string;
  protocol: string;
  floor: string;
  /** protocol / floor, on the medians. */
  ratio: number | null;
}

export interface FigureResult {
  id: string;
  title: string;
  /** The setup in one line each: intervals, counts, what the floor is. */
  setup: string[];
  rows: Row[];
  /** Raw numbers, markdown. */
  raw: string;
}

export function renderRows(rows: Row[]): string {
  const lines = ["| metric | protocol | floor | ratio |", "|---|---|---|---|"];
  for (const r of rows)
    lines.push(`| ${r.metric} | ${r.protocol} | ${r.floor} | ${r.ratio === null ? "–" : `${r.ratio.toFixed(2)}x`} |`);
  return lines.join("\n");
}

/** Hand the result to bench/run.ts (BENCH_OUT), or print it when the script runs alone. */
export function emit(result: FigureResult): void {
  if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify(result));
  else
    console.log(
      `## ${result.title}\n\n${result.setup.map((s) => `- ${s}`).join("\n")}\n\n${renderRows(result.rows)}\n\n${result.raw}`,
    );
}

/** Run a figure's main with its workspace, always closing it (processes killed, temp dir removed). */
export async function figure(name: string, main: (ws: Workspace) => Promise<FigureResult>): Promise<void> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run bun scripts/build.ts (bench/run.ts does)`);
  const ws = new Workspace(name);
  try {
    emit(await main(ws));
  } finally {
    await ws.close();
  }
}
