/**
 * npm run mutate's runner (issue 24): what counts as caught, the baseline's verdict, and that no
 * process outlives a run. The JUnit lines are bun's own, as its reporter writes them.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  baselineProblems,
  isAssertionFailure,
  judge,
  parseJunit,
  processesMarked,
  runTests,
} from "../../scripts/mutate-runner.ts";

const testcase = (file: string, name: string, failure?: string) =>
  `<testcase name="${name}" classname="" time="0.1" file="${file}" line="2" assertions="1">${failure ?? ""}</testcase>`;
const report = (...cases: string[]) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="bun test"><testsuite name="x">${cases.join("\n")}</testsuite></testsuites>`;
const ASSERTION =
  '<failure type="AssertionError" message="expect(received).toBe(expected)&#10;&#10;Expected: 2&#10;Received: 1&#10;">AssertionError</failure>';
const WITH_MESSAGE =
  '<failure type="Error" message="exit 1: stderr&#10;&#10;Expected: 0&#10;Received: 1&#10;">Error</failure>';
const TIMEOUT = '<failure type="TimeoutError" message="test timed out" />';
const MISSING_TOOL =
  '<failure type="Error" message="minisign is not installed (apt-get install minisign) (CI=true: a missing tool fails the test instead of skipping it)">Error</failure>';
const HELPER_THREW = '<failure type="Error" message="git push failed in /tmp/x: fatal: nope">Error</failure>';

describe("judging a run", () => {
  const named = ["test/cli/self.test.ts"];
  const run = (...cases: string[]) => ({ cases: parseJunit(report(...cases)), error: null });

  test("parses bun's report: file, name, skipped, the failure's type and message (entities decoded)", () => {
    const cases = parseJunit(
      report(testcase("test/cli/self.test.ts", "a &lt;b&gt;", ASSERTION), testcase("t.ts", "s", "<skipped />")),
    );
    expect(cases[0]).toEqual({
      file: "test/cli/self.test.ts",
      name: "a <b>",
      skipped: false,
      failure: { type: "AssertionError", message: "expect(received).toBe(expected)\n\nExpected: 2\nReceived: 1\n" },
    });
    expect(cases[1]).toMatchObject({ skipped: true, failure: null });
  });

  test.each([
    ["an assertion", true, ASSERTION],
    ["an assertion with a message of the test's own", true, WITH_MESSAGE],
    ["a time-out", false, TIMEOUT],
    ["a missing tool (CI=true)", false, MISSING_TOOL],
    ["a helper that threw", false, HELPER_THREW],
  ])("%s in one of its files catches: %p", (_name, counts, failure) => {
    const [parsed] = parseJunit(report(testcase(named[0]!, "t", failure)));
    expect(isAssertionFailure(parsed!.failure!)).toBe(counts);
    expect(judge(run(testcase(named[0]!, "t", failure)), named).caught).toBe(counts);
  });

  test("an assertion in a file that is not one of the mutation's own catches nothing", () => {
    const verdict = judge(run(testcase("test/cli/other.test.ts", "t", ASSERTION)), named);
    expect(verdict.caught).toBe(false);
    expect(verdict.why).toContain("not one of its test files");
  });

  test("every test passing is a survivor; a time-out is named as why it did not catch", () => {
    expect(judge(run(testcase(named[0]!, "t")), named)).toEqual({ caught: false, why: "every test passed" });
    expect(judge(run(testcase(named[0]!, "slow", TIMEOUT)), named).why).toContain("TimeoutError: test timed out");
  });

  test("a baseline with a failure, or a named file that never ran, is a problem; a clean one is not", () => {
    expect(baselineProblems(run(testcase(named[0]!, "t")), named)).toEqual([]);
    expect(baselineProblems(run(testcase(named[0]!, "t", MISSING_TOOL)), named)[0]).toContain(
      "test/cli/self.test.ts > t: Error: minisign is not installed",
    );
    expect(baselineProblems(run(), named)).toEqual([
      "test/cli/self.test.ts: no test of it ran (missing, or it failed to load)",
    ]);
  });
});

describe("running a file", () => {
  const dir = mkdtempSync(join(tmpdir(), "protocol-mutate-runner-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("runs every test (no --bail: afterAll runs), reports the failures, and kills what the tests left behind", async () => {
    // A file that fails first, starts processes it never stops (one in a session of its own, as
    // protocol's loops are), and cleans up in afterAll: --bail would skip that afterAll.
    writeFileSync(
      join(dir, "leaky.test.ts"),
      [
        'import { afterAll, expect, test } from "bun:test";',
        'import { writeFileSync } from "node:fs";',
        'import { join } from "node:path";',
        'test("fails first", () => expect(1).toBe(2));',
        'test("leaves processes", () => {',
        '  Bun.spawn(["sleep", "1000"], { detached: true }).unref();',
        '  Bun.spawn(["sleep", "1001"]).unref();',
        "});",
        'afterAll(() => writeFileSync(join(import.meta.dir, "after-all-ran"), ""));',
        "",
      ].join("\n"),
    );
    const run = await runTests(dir, ["leaky.test.ts"], { limitMs: 60_000 });
    expect(run.error).toBeNull();
    expect(run.cases.map((c) => [c.name, c.failure?.type ?? null])).toEqual([
      ["fails first", "AssertionError"],
      ["leaves processes", null],
    ]);
    expect(judge(run, ["leaky.test.ts"]).caught).toBe(true);
    expect(existsSync(join(dir, "after-all-ran"))).toBe(true);
    expect(run.leftovers.filter((p) => p.includes("sleep"))).toHaveLength(2);
    expect(processesMarked(join(dir, "tmp"))).toEqual([]);
  });
});
