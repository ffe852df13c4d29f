import { describe, expect, test } from "bun:test";
import { shellQuote } from "../../src/lib/core/shell.ts";
import { baseEnv } from "../../src/lib/core/spawn.ts";

/** The words sh makes of a command line, as git's GIT_SSH_COMMAND or cron would split it. */
async function shellWords(line: string): Promise<string[]> {
  const child = Bun.spawn(["sh", "-c", 'eval "set -- $0"; printf "%s\\0" "$@"', line], { stdout: "pipe" });
  const out = await new Response(child.stdout).text();
  return out.split("\0").slice(0, -1);
}

describe("shellQuote", () => {
  test.each([
    ["plain", "'plain'"],
    ["/home/me/my key", "'/home/me/my key'"],
    ["it's", `'it'\\''s'`],
    ["", "''"],
    ["50%", "'50%'"],
    ["$(rm -rf /) `x` ;|&", "'$(rm -rf /) `x` ;|&'"],
  ])("quotes %j as %s", (word, expected) => {
    expect(shellQuote(word)).toBe(expected);
  });

  test.each([["a b"], ["it's"], ["$HOME"], ["`id`"], ['"; exit 3; "'], ["back\\slash"], ["new\nline"]])(
    "makes sh read %j back as exactly one word",
    async (word) => {
      expect(await shellWords(shellQuote(word))).toEqual([word]);
    },
  );
});

describe("baseEnv: what protocol's children get", () => {
  test("the loop's runtime tuning (BUN_JSC_useJIT) is not handed on, unless a spawn sets it itself", () => {
    const saved = process.env.BUN_JSC_useJIT;
    process.env.BUN_JSC_useJIT = "0";
    try {
      expect(baseEnv().BUN_JSC_useJIT).toBeUndefined();
      expect(baseEnv({ BUN_JSC_useJIT: "0" }).BUN_JSC_useJIT).toBe("0");
      expect(baseEnv()).toMatchObject({ LC_ALL: "C", GIT_TERMINAL_PROMPT: "0" });
    } finally {
      if (saved === undefined) delete process.env.BUN_JSC_useJIT;
      else process.env.BUN_JSC_useJIT = saved;
    }
  });
});
