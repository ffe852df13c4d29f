/**
 * How `npm run mutate` runs a mutation's tests and judges them (scripts/mutate.ts holds the table).
 *
 * - Every run writes a JUnit report; a mutation is caught only by an assertion failure (an
 *   `expect` that failed) of a test in one of the mutation's own test files. A time-out, a missing
 *   tool (CI=true turns those into errors), a crash or a helper that threw catches nothing.
 * - No --bail: bun exits at the first failure without running afterAll, and what the file started
 *   there (its docker-registry pair, say) outlived the run.
 * - Whatever a run leaves behind is killed: the run is its own process group, and every process
 *   whose environment points into the run's temp dir (loops that protocol detached into their own
 *   session included) is found in /proc and killed, then waited for.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, relative } from "node:path";

export interface TestCase {
  file: string;
  name: string;
  skipped: boolean;
  failure: { type: string; message: string } | null;
}

export interface RunResult {
  cases: TestCase[];
  /** Why there is no report, or the run went over its limit; null for a run that finished. */
  error: string | null;
  /** Processes the run left behind (killed), as "pid argv0". */
  leftovers: string[];
  ms: number;
}

function unescapeXml(text: string): string {
  return text.replace(/&(#\d+|#x[0-9a-f]+|lt|gt|amp|quot|apos);/gi, (_, entity: string) => {
    if (entity.startsWith("#x") || entity.startsWith("#X"))
      return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith("#")) return String.fromCodePoint(Number(entity.slice(1)));
    return { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }[entity.toLowerCase()] ?? "";
  });
}

function attributes(text: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [, name, value] of text.matchAll(/([\w-]+)="([^"]*)"/g)) found[name!] = unescapeXml(value!);
  return found;
}

/** The test cases of a bun JUnit report, each with its file (relative to `root` when absolute). Pure. */
export function parseJunit(xml: string, root = ""): TestCase[] {
  const cases: TestCase[] = [];
  for (const [, attrs, body] of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const { file = "", name = "" } = attributes(attrs!);
    const failure = /<failure\b([^>]*?)\/?>/.exec(body ?? "");
    const failed = failure ? attributes(failure[1]!) : null;
    cases.push({
      file: root && file.startsWith("/") ? relative(root, file) : file,
      name,
      skipped: /<skipped\b/.test(body ?? ""),
      failure: failed ? { type: failed.type ?? "", message: failed.message ?? "" } : null,
    });
  }
  return cases;
}

/**
 * A failed `expect`: bun reports it as an AssertionError, or as an Error carrying the matcher's
 * Expected/Received lines when the test gave expect() a message of its own. Pure.
 */
export function isAssertionFailure(failure: { type: string; message: string }): boolean {
  if (failure.type === "AssertionError") return true;
  if (failure.type !== "Error") return false;
  return /(^|\n)[-+ ]*Expected\b/.test(failure.message) && /(^|\n)[-+ ]*Received\b/.test(failure.message);
}

const firstLine = (text: string) => text.split("\n").find((line) => line.trim() !== "") ?? "";

/** What catches a mutation: an assertion failure in one of its own test files. Pure. */
export function judge(
  run: Pick<RunResult, "cases" | "error">,
  files: readonly string[],
): { caught: boolean; why: string } {
  const failed = run.cases.filter((c) => c.failure !== null);
  const catching = failed.filter((c) => files.includes(c.file) && isAssertionFailure(c.failure!));
  if (catching.length > 0)
    return {
      caught: true,
      why: `${catching.length} assertion(s) failed, first: ${catching[0]!.file} > ${catching[0]!.name}`,
    };
  if (failed.length === 0) return { caught: false, why: run.error ?? "every test passed" };
  const first = failed[0]!;
  const reason = files.includes(first.file)
    ? `${first.failure!.type}: ${firstLine(first.failure!.message)}`
    : `in ${first.file}, not one of its test files`;
  return {
    caught: false,
    why: `${failed.length} test(s) failed, none on an assertion (${first.name}: ${reason})${run.error ? `; ${run.error}` : ""}`,
  };
}

/** The failures of a run on the untouched tree, one line each: a baseline must have none. Pure. */
export function baselineProblems(run: Pick<RunResult, "cases" | "error">, files: readonly string[]): string[] {
  const problems = run.cases
    .filter((c) => c.failure !== null)
    .map((c) => `${c.file} > ${c.name}: ${c.failure!.type}: ${firstLine(c.failure!.message)}`);
  for (const file of files)
    if (!run.cases.some((c) => c.file === file))
      problems.push(`${file}: no test of it ran (missing, or it failed to load)`);
  if (run.error) problems.push(run.error);
  return problems;
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Processes (not this one) whose environment or command line names `marker` (a temp dir): a run's leftovers. */
export function processesMarked(marker: string): { pid: number; argv0: string }[] {
  const found: { pid: number; argv0: string }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const status = readOrEmpty(`/proc/${name}/status`);
    // A zombie has exited: only its parent (or a slow PID 1) has to reap it.
    if (status === "" || status.includes("State:\tZ")) continue;
    const environ = readOrEmpty(`/proc/${name}/environ`).split("\0");
    const argv = readOrEmpty(`/proc/${name}/cmdline`).split("\0");
    let cwd = "";
    try {
      cwd = readlinkSync(`/proc/${name}/cwd`);
    } catch {
      // gone meanwhile, or not ours to read
    }
    const marked =
      environ.some((entry) => entry.includes(marker)) ||
      argv.some((arg) => arg.includes(marker)) ||
      cwd === marker ||
      cwd.startsWith(`${marker}/`);
    if (marked) found.push({ pid: Number(name), argv0: argv[0] ?? "?" });
  }
  return found;
}

/** Kill every process marked with `marker` (SIGKILL: they are a finished run's leftovers) and wait until they are gone. */
export async function killMarked(marker: string, timeoutMs = 10_000): Promise<string[]> {
  const killed: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = processesMarked(marker);
    if (left.length === 0 || Date.now() > deadline) {
      for (const p of left) killed.push(`${p.pid} ${p.argv0} (would not die)`);
      return killed;
    }
    for (const p of left) {
      try {
        process.kill(p.pid, "SIGKILL");
        if (!killed.some((k) => k.startsWith(`${p.pid} `))) killed.push(`${p.pid} ${p.argv0}`);
      } catch {
        // gone meanwhile
      }
    }
    await Bun.sleep(100);
  }
}

/**
 * `bun test` of `files` in `dir` (a copy of the repo, or any project), with CI=true and the run's
 * temp dir inside `dir`; the JUnit report parsed; everything the run left behind killed.
 */
export async function runTests(
  dir: string,
  files: readonly string[],
  options: { limitMs?: number; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const started = Date.now();
  const tmp = join(dir, "tmp");
  mkdirSync(tmp, { recursive: true });
  const report = join(tmp, `junit-${started}.xml`);
  const child = Bun.spawn(
    [process.execPath, "test", "--timeout", "120000", "--reporter=junit", `--reporter-outfile=${report}`, ...files],
    {
      cwd: dir,
      stdout: "ignore",
      stderr: "pipe",
      // Its own process group: what the run started and did not detach is killed with it.
      detached: true,
      env: { ...process.env, CI: "true", TMPDIR: tmp, ...options.env },
    },
  );
  const stderr = new Response(child.stderr).text();
  const limitMs = options.limitMs ?? 20 * 60_000;
  let overLimit = false;
  const timer = setTimeout(() => {
    overLimit = true;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }, limitMs);
  await child.exited;
  clearTimeout(timer);
  const leftovers = await killMarked(tmp);
  try {
    // Anything of the group that cleared its environment (and so escaped the sweep).
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // the group is empty: nothing was left in it
  }
  const tail = (await stderr).trim().split("\n").slice(-3).join(" | ");
  const cases = existsSync(report) ? parseJunit(readFileSync(report, "utf8"), dir) : [];
  const error = overLimit
    ? `the run went over ${Math.round(limitMs / 1000)} s and was killed`
    : existsSync(report)
      ? null
      : `bun test wrote no report (exit ${child.exitCode}): ${tail}`;
  return { cases, error, leftovers, ms: Date.now() - started };
}
