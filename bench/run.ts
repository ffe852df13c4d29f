/**
 * `npm run bench [-- figure ...]`: build the binary, run bench/<figure>.ts one after the other (each
 * in its own process, in its own temp dir; `rollout` is fleet.ts in its rollout mode), check that none left a process behind, and write
 * bench/RESULTS.md with the machine, date, commit and raw numbers. A run of some figures only
 * writes bench/.cache/RESULTS-partial.md, so the full results are not replaced by a subset.
 */
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { BIN, CACHE, type FigureResult, fmt, ROOT, renderRows, run } from "./lib.ts";

const FIGURES = ["push", "apply", "idle", "memory", "startup", "fleet", "rollout", "image", "config", "files"];
/** Figures that are a mode of one script: the script, and the env that picks the mode (else bench/<figure>.ts). */
const MODES: Record<string, { script: string; env: Record<string, string> }> = {
  fleet: { script: "fleet", env: { BENCH_FLEET_MODE: "polls" } },
  rollout: { script: "fleet", env: { BENCH_FLEET_MODE: "rollout" } },
};
const KNOBS = [
  "BENCH_PUSHES",
  "BENCH_APPLY_ROUNDS",
  "BENCH_IDLE_POLLS",
  "BENCH_MEMORY_POLLS",
  "BENCH_MEMORY_PUSH_EVERY",
  "BENCH_STARTUP_RUNS",
  "BENCH_FLEET_NODES",
  "BENCH_FLEET_SECONDS",
  "BENCH_FLEET_WARMUP",
  "BENCH_FLEET_PUSHES",
  "BENCH_ROLLOUT_NODES",
  "BENCH_ROLLOUT_PUSHES",
  "BENCH_ROLLOUT_IDLE",
  "BENCH_ROLLOUT_WAVE_SECONDS",
  "BENCH_IMAGE_ROUNDS",
  "BENCH_IMAGE_POLLS",
  "BENCH_CONFIG_ROUNDS",
  "BENCH_FILES_PASSES",
  "BENCH_FILES_REPS",
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((f) => !FIGURES.includes(f));
if (unknown.length) {
  console.error(`unknown figure(s): ${unknown.join(", ")}; choose from ${FIGURES.join(", ")}`);
  process.exit(2);
}
const selected = wanted.length ? FIGURES.filter((f) => wanted.includes(f)) : FIGURES;

/** Processes whose command line or cwd is inside this run's temp dir: anything a figure left behind. */
function leftovers(tmp: string): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // gone, or not ours to read
      }
      if (cmd.includes(tmp) || cwd.startsWith(tmp)) found.push({ pid: Number(entry), cmd });
    } catch {
      // exited while we looked
    }
  }
  return found;
}

async function machine(): Promise<string[]> {
  const text = async (argv: string[], cwd = ROOT) => (await run(argv, { cwd, allowFail: true })).stdout.trim();
  const head = await text(["git", "rev-parse", "HEAD"]);
  const dirty = (await text(["git", "status", "--porcelain", "--untracked-files=all"]))
    .split("\n")
    .filter(Boolean).length;
  return [
    `- machine: ${await text(["uname", "-srm"])}; ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, ${fmt(totalmem() / 2 ** 30, 1)} GiB RAM`,
    `- date: ${new Date().toISOString()}`,
    `- commit: ${head || "none yet (unborn branch)"}${dirty ? ` + ${dirty} uncommitted file(s)` : ""}`,
    `- protocol ${await text([BIN, "--version"])} (dist/protocol, compiled by scripts/build.ts), bun ${Bun.version}, ${await text(["git", "--version"])}`,
    `- knobs set: ${
      KNOBS.filter((k) => process.env[k])
        .map((k) => `${k}=${process.env[k]}`)
        .join(", ") || "none (defaults)"
    }`,
  ];
}

console.error("building dist/protocol …");
await run([process.execPath, join(ROOT, "scripts", "build.ts")], { cwd: ROOT });

const tmp = `/tmp/protocol-bench-run-${process.pid}-${Date.now().toString(36)}`;
mkdirSync(tmp, { recursive: true });
const results: (FigureResult & { seconds: number; problems: string[] })[] = [];
let failed = false;
for (const name of selected) {
  console.error(`\n== ${name} ==`);
  const out = join(tmp, `${name}.json`);
  const started = performance.now();
  const mode = MODES[name] ?? { script: name, env: {} };
  const child = Bun.spawn([process.execPath, join(import.meta.dir, `${mode.script}.ts`)], {
    cwd: ROOT,
    env: { ...process.env, ...mode.env, BENCH_OUT: out, BENCH_TMP: tmp },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const code = await child.exited;
  const seconds = (performance.now() - started) / 1000;
  const problems: string[] = [];
  // PID 1 reaps slowly: give stopped loops a moment before calling them left behind.
  await Bun.sleep(1_000);
  for (const p of leftovers(tmp)) {
    problems.push(`left behind pid ${p.pid}: ${p.cmd}`);
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  let result: FigureResult | null = null;
  try {
    result = JSON.parse(readFileSync(out, "utf8"));
  } catch {
    problems.push(`no result (exit code ${code})`);
  }
  if (code !== 0 || problems.length) failed = true;
  for (const p of problems) console.error(`${name}: ${p}`);
  console.error(`${name}: ${fmt(seconds, 0)} s`);
  results.push({ id: name, title: name, setup: [], rows: [], raw: "", ...result, seconds, problems });
}
rmSync(tmp, { recursive: true, force: true });

const doc = [
  "# protocol benchmarks",
  "",
  "Written by `npm run bench` (bench/run.ts); one script per figure in bench/. Each figure is measured in the same run against a floor: the plain git commands, or a plain bash loop (`git ls-remote` → on change `git fetch` + `git merge --ff-only`, `sleep <interval>`; for images and config, the same loop with `curl -sI` of the manifest or on the config clone, then `docker compose up`). Ratio = protocol / floor. Timings are of this machine and this run only.",
  "",
  ...(await machine()),
  `- figures: ${results.map((r) => `${r.id} ${fmt(r.seconds, 0)} s`).join(", ")}; total ${fmt(results.reduce((a, r) => a + r.seconds, 0) / 60, 1)} min`,
  "",
  "## Summary",
  "",
  renderRows(results.flatMap((r) => r.rows.map((row) => ({ ...row, metric: `${r.id}: ${row.metric}` })))),
  "",
  ...results.flatMap((r) => [
    `## ${r.title}`,
    "",
    ...r.setup.map((s) => `- ${s}`),
    ...r.problems.map((p) => `- **problem:** ${p}`),
    "",
    renderRows(r.rows),
    "",
    "Raw numbers:",
    "",
    r.raw,
    "",
  ]),
].join("\n");

const full = selected.length === FIGURES.length;
const target = full ? join(import.meta.dir, "RESULTS.md") : join(CACHE, "RESULTS-partial.md");
mkdirSync(CACHE, { recursive: true });
writeFileSync(target, doc);
console.error(`\nwrote ${target}${failed ? " (with problems, see above)" : ""}`);
process.exitCode = failed ? 1 : 0;
