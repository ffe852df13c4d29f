import { describe, test } from "bun:test";

const ON_CI = process.env.CI === "true";
const told = new Set<string>();

type Body = () => undefined | Promise<unknown>;

/**
 * `test` for a test that needs a tool or a right the machine may lack (`missing`: why not, with
 * the install hint; null: all there). Outside CI it is skipped, its reason printed once. Under CI
 * (.ci/run sets CI=true) it is never skipped: it fails with the reason, so a tool that CI lost
 * cannot hide a test.
 */
export function testNeeding(missing: string | null) {
  return (name: string, body: Body, timeoutMs?: number) => {
    if (missing === null) return test(name, body, timeoutMs);
    if (ON_CI)
      return test(name, () => {
        throw new Error(`${missing} (CI=true: a missing tool fails the test instead of skipping it)`);
      });
    if (!told.has(missing)) {
      told.add(missing);
      console.log(`skipping: ${missing}`);
    }
    return test.skip(name, body, timeoutMs);
  };
}

/** The same for a whole describe block. */
export function describeNeeding(missing: string | null) {
  return (name: string, body: () => void) => {
    if (missing === null || ON_CI) {
      return describe(name, () => {
        if (missing !== null)
          test("has what it needs", () => {
            throw new Error(`${missing} (CI=true: a missing tool fails the test instead of skipping it)`);
          });
        else body();
      });
    }
    if (!told.has(missing)) {
      told.add(missing);
      console.log(`skipping: ${missing}`);
    }
    return describe.skip(name, body);
  };
}
