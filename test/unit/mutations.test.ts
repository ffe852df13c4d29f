import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MUTATIONS } from "../../scripts/mutations.ts";

const root = join(import.meta.dir, "..", "..");

// The mutation run takes minutes and runs last in CI: a mutation whose code moved is caught here.
describe("the mutation table", () => {
  test.each(MUTATIONS.map((m) => [m.name, m] as const))("%s still applies to its file, once", (_name, m) => {
    const text = readFileSync(join(root, m.file), "utf8");
    expect(text.split(m.from).length - 1).toBe(1);
    for (const file of m.tests) expect(existsSync(join(root, file))).toBe(true);
  });

  test("names are unique", () => {
    const names = MUTATIONS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
