import { describe, expect, test } from "bun:test";
import { branchNameProblem } from "../../src/lib/core/refname.ts";
import { hasControlChars, redactUrlPath } from "../../src/lib/core/validate.ts";
import { sh } from "../helpers/fixture.ts";

const cases = [
  "main",
  "release/1.2",
  "feature/x-y_z",
  "v1.0",
  "a:b",
  "a*b",
  "a b",
  "a?b",
  "a[b",
  "a\\b",
  "a~1",
  "a^",
  "-main",
  "a..b",
  "a@{1}",
  "a//b",
  "/a",
  "a/",
  "a.",
  ".hidden",
  "a/.b",
  "x.lock",
  "a/b.lock/c",
  "new\nline",
  "tab\there",
  "",
];

describe("branchNameProblem", () => {
  test.each(cases)("agrees with git check-ref-format --branch on %j", async (name) => {
    const git = await sh(["git", "check-ref-format", "--branch", name]);
    expect(branchNameProblem(name) === null).toBe(git.exitCode === 0);
  });
});

test("'@' alone is refused (git's --branch expands it to the current branch instead)", () => {
  expect(branchNameProblem("@")).not.toBeNull();
});

describe("boundary checks", () => {
  test.each([
    ["/srv/app", false],
    ["x\n* * * * * touch /tmp/pwned\n#", true],
    ["a\rb", true],
    ["nul\u0000", true],
    ["tab\t", true],
    ["ünïcode", false],
  ] as const)("hasControlChars(%j) is %p", (value, expected) => {
    expect(hasControlChars(value)).toBe(expected);
  });

  test("a URL in a log keeps its scheme and host only", () => {
    expect(redactUrlPath("https://hooks.example.com/services/T0K3N/secret?x=1")).toBe("https://hooks.example.com/…");
    expect(redactUrlPath("not a url")).toBe("<url>");
  });
});
