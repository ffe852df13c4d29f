/**
 * `npm test`: bun test with a JUnit report, then the line CI reads, `N passed, N failed`, from the
 * reports' totals. The test files run in three shards side by side (the suite mostly waits on git,
 * servers and loops: see SHARDS), balanced by each file's time in the last
 * report; each `*.slow.test.ts` file (long waits, little CPU: a throttled 70 s fetch, a fleet's
 * waves) gets a shard of its own. Each shard's output is printed whole when it ends. With arguments
 * (`npm test -- <filter>`) it is one plain bun test run. A failure in any shard fails the run.
 * The tests run protocol as a binary compiled from this checkout first (PROTOCOL_TEST_CLI).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dir, "..");
const results = join(root, "test-results");
mkdirSync(results, { recursive: true });
// bunfig's [test] timeout is ignored by bun, so the timeout is passed here.
const bunTest = (report: string, files: string[]) => [
  process.execPath,
  "test",
  "--timeout",
  "120000",
  "--reporter=junit",
  `--reporter-outfile=${report}`,
  ...files,
];

function testFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return testFiles(path);
      return name.endsWith(".test.ts") ? [`./${relative(root, path)}`] : [];
    });
}

/** Each file's seconds in a set of JUnit reports. */
function timesIn(dir: string): Map<string, number> {
  const times = new Map<string, number>();
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    if (!/^junit-\d+\.xml$/.test(name)) continue;
    const xml = readFileSync(join(dir, name), "utf8");
    for (const match of xml.matchAll(/<testsuite name="([^"]+\.test\.ts)"[^>]*time="([\d.]+)"/g)) {
      times.set(`./${match[1]}`, Number(match[2]));
    }
  }
  return times;
}

/** Where a fresh clone (CI) finds each file's seconds: written by `bun scripts/test.ts --save-timings`. */
const TIMINGS = join(root, "test", "timings.json");

/**
 * Seconds per test file: from this checkout's last full run, else from test/timings.json (a fresh
 * clone has no reports, and 5 s for every file leaves the shards uneven); files not seen count as 5 s.
 */
function lastTimes(): Map<string, number> {
  const reported = timesIn(results);
  if (reported.size > 0) return reported;
  return existsSync(TIMINGS) ? new Map(Object.entries(JSON.parse(readFileSync(TIMINGS, "utf8")))) : new Map();
}

/** Longest first, each to the shard with less work so far. */
function shard(files: string[], count: number): string[][] {
  const times = lastTimes();
  const shards = Array.from({ length: count }, () => ({ files: [] as string[], seconds: 0 }));
  for (const file of [...files].sort((a, b) => (times.get(b) ?? 5) - (times.get(a) ?? 5))) {
    const lightest = shards.reduce((min, s) => (s.seconds < min.seconds ? s : min));
    lightest.files.push(file);
    lightest.seconds += times.get(file) ?? 5;
  }
  return shards.map((s) => s.files.sort()).filter((s) => s.length > 0);
}

function totals(report: string): { passed: number; failed: number; skipped: number } | null {
  if (!existsSync(report)) return null;
  const head = /<testsuites\b[^>]*>/.exec(readFileSync(report, "utf8"))?.[0] ?? "";
  const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(head)?.[1] ?? 0);
  const failed = attr("failures") + attr("errors");
  const skipped = attr("skipped");
  return { passed: attr("tests") - failed - skipped, failed, skipped };
}

/**
 * Three shards on two cores: the suite waits on git, servers, loops and sleeps more than it
 * computes (~155% CPU with three), so a third shard cut the wall time from ~160 s to ~138 s.
 * PROTOCOL_TEST_SHARDS overrides it.
 */
const SHARDS = 3;

const args = process.argv.slice(2);
if (args[0] === "--save-timings") {
  // The last full run's times, rounded, for fresh clones: commit the file when the suite changed a lot.
  const times = Object.fromEntries([...timesIn(results)].sort().map(([file, s]) => [file, Math.round(s)]));
  writeFileSync(TIMINGS, `${JSON.stringify(times, null, 2)}\n`);
  console.log(`wrote ${relative(root, TIMINGS)} (${Object.keys(times).length} files)`);
  process.exit(0);
}
const all = testFiles(join(root, "test"));
const slow = all.filter((file) => file.endsWith(".slow.test.ts"));
const runs =
  args.length > 0
    ? [args]
    : [
        ...shard(
          all.filter((file) => !slow.includes(file)),
          Number(process.env.PROTOCOL_TEST_SHARDS) || SHARDS,
        ),
        // Each slow file on its own: they wait more than they compute, and together they would be the longest shard.
        ...slow.map((file) => [file]),
      ];
// A filtered run reports on its own and keeps the full run's reports (their times balance the shards).
const reports =
  args.length > 0 ? [join(results, "junit-filtered.xml")] : runs.map((_, i) => join(results, `junit-${i}.xml`));
for (const report of args.length > 0 ? reports : readdirSync(results).map((name) => join(results, name))) {
  if (report.endsWith(".xml")) rmSync(report, { force: true });
}

// The CLI tier spawns protocol about a thousand times: a compiled binary, built once here from
// this checkout, starts in a third of the CPU `bun src/cli.ts` needs (test/helpers/fixture.ts cliArgv).
const binary = join(results, "cli", "protocol");
const built = Bun.spawnSync([process.execPath, join(root, "scripts", "build.ts"), "--outfile", binary], { cwd: root });
if (built.exitCode !== 0) {
  process.stderr.write(built.stderr);
  console.error("could not build the binary the tests run");
  process.exit(1);
}

const codes = await Promise.all(
  runs.map(async (files, i) => {
    const single = runs.length === 1;
    const child = Bun.spawn(bunTest(reports[i]!, files), {
      cwd: root,
      env: { ...process.env, PROTOCOL_TEST_CLI: binary },
      stdio: ["inherit", single ? "inherit" : "pipe", single ? "inherit" : "pipe"],
    });
    if (single) return child.exited;
    const [out, err, code] = await Promise.all([
      new Response(child.stdout as ReadableStream).text(),
      new Response(child.stderr as ReadableStream).text(),
      child.exited,
    ]);
    process.stdout.write(`\n=== shard ${i + 1} of ${runs.length} (${files.length} files) ===\n${out}`);
    process.stderr.write(err);
    return code;
  }),
);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const report of reports) {
  const t = totals(report) ?? { passed: 0, failed: 1, skipped: 0 };
  passed += t.passed;
  failed += t.failed;
  skipped += t.skipped;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(codes.find((code) => code !== 0) ?? 0);
