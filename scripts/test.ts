/**
 * `npm test`: bun test with a JUnit report, then the line CI reads, `N passed, N failed`, from the
 * report's totals. bun's own exit code is kept.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";

const report = "test-results/junit.xml";
mkdirSync("test-results", { recursive: true });
rmSync(report, { force: true });
const args = process.argv.slice(2);
// bunfig's [test] timeout is ignored by bun, so the timeout is passed here.
const child = Bun.spawn(
  [process.execPath, "test", "--timeout", "120000", "--reporter=junit", `--reporter-outfile=${report}`, ...args],
  {
    stdio: ["inherit", "inherit", "inherit"],
  },
);
const code = await child.exited;

if (existsSync(report)) {
  const xml = readFileSync(report, "utf8");
  const totals = /<testsuites\b[^>]*>/.exec(xml)?.[0] ?? "";
  const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(totals)?.[1] ?? 0);
  const failed = attr("failures") + attr("errors");
  const skipped = attr("skipped");
  const passed = attr("tests") - failed - skipped;
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
} else {
  console.log("0 passed, 1 failed");
}
process.exit(code);
