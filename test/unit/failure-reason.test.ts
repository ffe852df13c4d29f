import { describe, expect, test } from "bun:test";
import { failureReason } from "../../src/lib/core/spawn.ts";

describe("failureReason", () => {
  test.each([
    ["the first line of stderr", "fatal: repository not found\nmore\n", 128, "fatal: repository not found"],
    ["the first non-empty line, trimmed", "\n   \n  error: oops  \nnext", 1, "error: oops"],
    ["the exit code for blank stderr", "\n \n", 3, "exit 3"],
    ["the exit code for empty stderr", "", 128, "exit 128"],
  ])("gives %s", (_name, stderr, exitCode, expected) => {
    expect(failureReason({ stderr, exitCode })).toBe(expected);
  });
});
