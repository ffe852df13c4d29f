/**
 * `npm run mutate`: break one rule of the product at a time and check that the tests notice.
 * Each mutation is a textual change to one source file, applied to a temp copy of the repo
 * (node_modules linked, not copied) and run against the test files that should catch it.
 *
 * First a baseline: each mutation's test files run on an untouched copy, and must pass (a test
 * that already fails would "catch" anything). Then each mutation: caught only when a test of its
 * own files fails on an assertion (scripts/mutate-runner.ts says why the others do not count).
 * Prints one line per mutation; exits 1 if any was not caught, its baseline failed, or it no
 * longer applies (the code it targets moved: the table needs updating). No process outlives a run.
 * `npm run mutate -- <name>…` runs those.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baselineProblems, judge, type RunResult, runTests } from "./mutate-runner.ts";
import { MUTATIONS, type Mutation } from "./mutations.ts";

const root = join(import.meta.dir, "..");
const only = process.argv.slice(2);
const chosen = only.length > 0 ? MUTATIONS.filter((m) => only.includes(m.name)) : MUTATIONS;
const unknown = only.filter((name) => !MUTATIONS.some((m) => m.name === name));
if (unknown.length > 0) {
  console.error(`no such mutation: ${unknown.join(", ")}`);
  process.exit(2);
}

/** A copy of the repo's tracked tree (src, test, scripts, configs), node_modules linked. */
function copyRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), "protocol-mutate-"));
  for (const entry of [
    "src",
    "test",
    "scripts",
    "package.json",
    "tsconfig.json",
    "bunfig.toml",
    "install.sh",
    "README.md",
  ])
    if (existsSync(join(root, entry))) cpSync(join(root, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** Run `files` in a fresh copy, `change` applied to it first; the copy is removed after. */
async function inCopy(files: string[], change?: (dir: string) => void): Promise<RunResult> {
  const dir = copyRepo();
  try {
    change?.(dir);
    const run = await runTests(dir, files);
    if (run.leftovers.length > 0) console.log(`  (killed what the run left behind: ${run.leftovers.join(", ")})`);
    return run;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const width = Math.max(...chosen.map((m) => m.name.length));
const line = (mutation: Mutation, verdict: string, detail: string) =>
  console.log(`${mutation.name.padEnd(width)}  ${verdict.padEnd(9)} ${detail}`);
const applies = (mutation: Mutation) => readFileSync(join(root, mutation.file), "utf8").includes(mutation.from);

// The baseline: each mutation's test files (each distinct set once) on the untouched tree.
const baselines = new Map<string, string[]>();
for (const mutation of chosen.filter(applies)) {
  const key = mutation.tests.join(" ");
  if (baselines.has(key)) continue;
  const run = await inCopy(mutation.tests);
  const problems = baselineProblems(run, mutation.tests);
  baselines.set(key, problems);
  console.log(`baseline ${problems.length === 0 ? "ok    " : "FAILED"} ${key} (${(run.ms / 1000).toFixed(0)} s)`);
  for (const problem of problems) console.log(`  ${problem}`);
}
console.log("");

let bad = 0;
for (const mutation of chosen) {
  if (!applies(mutation)) {
    bad++;
    line(mutation, "STALE", `${mutation.file} no longer has the code this mutation changes`);
    continue;
  }
  const problems = baselines.get(mutation.tests.join(" ")) ?? [];
  if (problems.length > 0) {
    bad++;
    line(mutation, "BASELINE", `its tests fail on the untouched tree, so they prove nothing: ${problems[0]}`);
    continue;
  }
  const run = await inCopy(mutation.tests, (dir) => {
    const path = join(dir, mutation.file);
    writeFileSync(path, readFileSync(path, "utf8").replace(mutation.from, mutation.to));
  });
  const verdict = judge(run, mutation.tests);
  if (!verdict.caught) bad++;
  line(mutation, verdict.caught ? "caught" : "SURVIVED", `${mutation.rule} (${verdict.why})`);
}
console.log(`\n${chosen.length - bad} of ${chosen.length} mutations caught`);
process.exit(bad > 0 ? 1 : 0);
