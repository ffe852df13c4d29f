import { describe, expect, test } from "bun:test";
import { assertEnvName, isDevEnv } from "../../src/lib/config-repo/env.ts";
import {
  escapeIgnorePattern,
  IGNORE_BEGIN,
  IGNORE_END,
  parseIgnoreBlock,
  replaceIgnoreBlock,
  unescapeIgnorePattern,
} from "../../src/lib/config-repo/ignore.ts";
import { isSecretPath } from "../../src/lib/config-repo/secrets.ts";
import { classifyLocalWork } from "../../src/lib/git/classify.ts";

describe("ignore block", () => {
  test.each([
    [".env", "/.env"],
    ["nginx.d/my site.conf", "/nginx.d/my site.conf"],
    ["#notes", "/#notes"],
    ["!important", "/!important"],
    ["a*b?[c]", "/a\\*b\\?\\[c\\]"],
    ["back\\slash", "/back\\\\slash"],
    ["trailing  ", "/trailing\\ \\ "],
  ])("%j is matched exactly by %j, and parses back", (path, pattern) => {
    expect(escapeIgnorePattern(path)).toBe(pattern);
    expect(unescapeIgnorePattern(pattern)).toBe(path);
  });

  test("replacing the block keeps every other line, twice gives the same text, and no paths removes it", () => {
    const text = "node_modules/\n*.log\n";
    const once = replaceIgnoreBlock(text, ["b", "a b"]);
    expect(once).toBe(`node_modules/\n*.log\n${IGNORE_BEGIN}\n/a b\n/b\n${IGNORE_END}\n`);
    expect(replaceIgnoreBlock(once, ["b", "a b"])).toBe(once);
    expect(parseIgnoreBlock(once)).toEqual(["a b", "b"]);
    expect(replaceIgnoreBlock(once, [])).toBe(text);
    expect(replaceIgnoreBlock("", [])).toBe("");
    expect(parseIgnoreBlock(text)).toEqual([]);
  });
});

describe("environments", () => {
  test.each([
    ["localhost", true],
    ["local", true],
    ["dev", true],
    ["Development", true],
    ["localhost-jane", true],
    ["jane-localhost", true],
    ["production", false],
    ["staging", false],
    ["devops", false],
  ])("%s is a development environment: %p", (env, dev) => expect(isDevEnv(env)).toBe(dev));

  test.each(["production", "localhost-jane", "eu/west", "v1.2"])("%s is a valid environment name", (env) =>
    expect(assertEnvName(env)).toBe(env),
  );
  test.each(["-x", "a..b", "with space", "", "x/", "x.lock"])("%j is refused as an environment name", (env) =>
    expect(() => assertEnvName(env)).toThrow(),
  );
});

describe("secrets", () => {
  test.each([
    [".env", true],
    [".env.production", true],
    ["docker/.env", true],
    ["tls/site.key", true],
    ["ca.pem", true],
    ["nginx.d/site.conf", false],
    ["env.txt", false],
    ["keys.json", false],
  ])("%s is a secret: %p", (path, secret) => expect(isSecretPath(path)).toBe(secret));
});

describe("classifyLocalWork", () => {
  const hints = { dirty: "D", ahead: "A" };
  const allow = { dirty: false, ahead: false };
  const change = (path: string) => ({ code: " M", path });
  test.each([
    [{ changes: [], ahead: 0, behind: 3 }, allow, null],
    [{ changes: [change("a")], ahead: 0, behind: 1 }, allow, "dirty"],
    [{ changes: [change("a")], ahead: 0, behind: 1 }, { dirty: true, ahead: false }, null],
    [{ changes: [], ahead: 2, behind: 0 }, allow, "ahead"],
    [{ changes: [], ahead: 2, behind: 1 }, allow, "diverged"],
    [{ changes: [], ahead: 2, behind: 1 }, { dirty: false, ahead: true }, null],
    [{ changes: [change("a")], ahead: 2, behind: 1 }, allow, "dirty"],
  ] as const)("%j with %j → %p", (work, allowed, result) => {
    expect(classifyLocalWork(work, "origin/main", allowed, hints)?.result ?? null).toBe(result);
  });

  test("names at most three files and says how many", () => {
    const refusal = classifyLocalWork(
      { changes: ["a", "b", "c", "d"].map(change), ahead: 0, behind: 1 },
      "origin/main",
      allow,
      hints,
    );
    expect(refusal).toEqual({
      result: "dirty",
      error: "uncommitted changes to 4 tracked file(s): a, b, c, …",
      hint: "D",
    });
  });
});
