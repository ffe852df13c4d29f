import { describe, expect, spyOn, test } from "bun:test";
import type { ArgsDef } from "citty";
import { commands } from "../../src/commands/index.ts";
import { checkCommandLine, choiceArg, parseWholeNumber, wholeNumberArg } from "../../src/lib/core/argv.ts";
import { CancelledError, EXIT, UsageError } from "../../src/lib/core/errors.ts";
import { answerOrCancel } from "../../src/lib/core/prompt.ts";
import { reportError } from "../../src/lib/core/report-error.ts";
import { closestNames, editDistance, suggestCommands } from "../../src/lib/core/suggest.ts";

const ARGS = {
  env: { type: "positional", required: false, description: "env", valueHint: "env" },
  dir: { type: "string", description: "dir", valueHint: "path" },
  json: { type: "boolean", description: "json" },
  yes: { type: "boolean", alias: "y", description: "yes" },
  force: { type: "boolean", alias: "f", description: "force" },
  message: { type: "string", alias: "m", description: "message", valueHint: "msg" },
  cron: { type: "boolean", default: true, description: "cron" },
  limit: wholeNumberArg("limit", "n", { min: 1, unit: "deploys", example: 20 }),
  "on-dirty": choiceArg("dirty", ["refuse", "stash"]),
  verbose: { type: "boolean", description: "verbose" },
} as const satisfies ArgsDef;

const check = (words: string[], args: ArgsDef = ARGS) => checkCommandLine("start", args, words);

/** The usage error a command line gets: message and hint. */
function refusal(words: string[], args: ArgsDef = ARGS): { message: string; hint?: string } {
  try {
    check(words, args);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return { message: (error as UsageError).message, hint: (error as UsageError).hint };
  }
  throw new Error(`accepted: ${words.join(" ")}`);
}

describe("checkCommandLine rewrites a good command line for citty", () => {
  test.each([
    [
      "flags and a positional",
      ["production", "--dir", "/srv/app", "--json"],
      ["--json", "--dir=/srv/app", "--", "production"],
    ],
    ["--flag=value", ["--dir=/srv/app"], ["--dir=/srv/app", "--"]],
    ["a one-letter alias becomes its long name", ["-y", "-m", "hello"], ["--yes", "--message=hello", "--"]],
    ["a cluster of boolean aliases", ["-yf"], ["--yes", "--force", "--"]],
    ["the last letter of a cluster may take a value", ["-ym", "hi"], ["--yes", "--message=hi", "--"]],
    ["--no-<boolean>", ["--no-cron"], ["--no-cron", "--"]],
    ["--flag=true and --flag=false", ["--json=false", "--yes=true"], ["--no-json", "--yes", "--"]],
    ["the last of a repeated boolean wins", ["--json", "--no-json"], ["--no-json", "--"]],
    ["a value that starts with - after =", ["--message=-x"], ["--message=-x", "--"]],
    ["a word after -- is never a flag", ["--json", "--", "--bogus"], ["--json", "--", "--bogus"]],
    ["a lone - is a word", ["-"], ["--", "-"]],
    ["a valid number and choice", ["--limit", "5", "--on-dirty=stash"], ["--limit=5", "--on-dirty=stash", "--"]],
  ])("%s", (_name, words, expected) => {
    expect(check(words)).toEqual(expected);
  });

  test("a positional whose valueHint ends in … takes any number of words, before and after --", () => {
    const args = { command: { type: "positional", required: false, valueHint: "cmd…" } } satisfies ArgsDef;
    expect(checkCommandLine("exec", args, ["ls", "--", "-la", "/"])).toEqual(["--", "ls", "-la", "/"]);
  });
});

describe("checkCommandLine refuses, naming the word, with a hint", () => {
  test.each([
    [
      "an unknown long flag, with the nearest one",
      ["--jsn"],
      "unknown flag --jsn for protocol start",
      "did you mean --json?",
    ],
    ["an unknown flag with nothing near", ["--bogus"], "unknown flag --bogus", "run protocol start --help"],
    ["a long name with one dash", ["-json"], "unknown flag -json", "did you mean --json?"],
    ["an unknown letter in a cluster", ["-yx"], "unknown flag -x (in -yx)", "--help"],
    ["a string alias inside a cluster", ["-my"], "unknown flag -m (in -my)", "--help"],
    ["a misspelt --no-<flag>", ["--no-crn"], "unknown flag --no-crn", "did you mean --no-cron?"],
    ["--no- on a string flag", ["--no-dir"], "unknown flag --no-dir", "--help"],
    ["a long flag spelt as its alias", ["--y"], "unknown flag --y", "--help"],
    ["a stray positional", ["production", "extra"], 'unexpected argument "extra"', "takes one argument, [env]"],
    ["a string flag at the end", ["--dir"], "--dir needs a value", "--dir=<path>"],
    ["a string flag before another flag", ["--dir", "--json"], "--dir needs a value", "--dir <path>"],
    ["an empty value", ["--dir="], "--dir needs a value", "--dir <path>"],
    ["a string flag given twice", ["--dir", "a", "--dir", "b"], "--dir is given twice", "once"],
    ["a value for a boolean", ["--json=yes"], '--json takes no value (got "yes")', "--no-json"],
    ["a value for --no-<flag>", ["--no-cron=false"], "--no-cron takes no value", "--no-cron"],
    [
      "a negative number",
      ["--limit", "-3"],
      '--limit must be a whole number of deploys, at least 1 (got "-3")',
      "--limit 20",
    ],
    ["zero below the minimum", ["--limit=0"], "--limit must be a whole number", "--limit 20"],
    ["not a number", ["--limit", "abc"], '(got "abc")', "--limit 20"],
    ["not digits only", ["--limit", "1e3"], '(got "1e3")', "--limit 20"],
    ["a bad choice", ["--on-dirty=delete"], "--on-dirty must be one of refuse, stash", "--on-dirty=refuse or"],
  ])("%s", (_name, words, message, hint) => {
    const { message: got, hint: gotHint } = refusal(words);
    expect(got).toContain(message);
    expect(got.split("\n")).toHaveLength(1);
    expect(gotHint).toContain(hint);
  });

  test("a command without positionals takes none, not even after --", () => {
    const args = { json: { type: "boolean" } } satisfies ArgsDef;
    expect(refusal(["extra"], args).hint).toContain("takes no arguments");
    expect(refusal(["--", "extra"], args).message).toContain('"extra"');
  });

  test("a missing required positional or flag", () => {
    const paths = { paths: { type: "positional", required: true, valueHint: "path…" } } satisfies ArgsDef;
    expect(refusal([], paths).message).toBe("protocol start needs <path…>");
    const repo = { repo: { type: "string", required: true, valueHint: "url" } } satisfies ArgsDef;
    expect(refusal([], repo).message).toBe("protocol start needs --repo <url>");
  });

  test("an unknown flag on a command that runs another program says to put -- before its words", () => {
    const args = { command: { type: "positional", required: false, valueHint: "cmd…" } } satisfies ArgsDef;
    expect(() => checkCommandLine("exec", args, ["ls", "-la"])).toThrow("unknown flag -la for protocol exec");
    try {
      checkCommandLine("exec", args, ["ls", "-la"]);
    } catch (error) {
      expect((error as UsageError).hint).toContain("protocol exec -- <cmd…>");
    }
  });
});

describe("parseWholeNumber", () => {
  test.each([
    ["5", { min: 1, example: 1 }, 5],
    ["0", { min: 0, example: 1 }, 0],
    ["65535", { min: 1, max: 65535, example: 22 }, 65535],
    [undefined, { min: 1, example: 1 }, undefined],
  ])("%p in %p is %p", (value, range, expected) => {
    expect(parseWholeNumber("n", value, range)).toBe(expected);
  });

  test.each(["-1", "0", "65536", "2.5", " 5", "0x10", "99999999999999999999"])("refuses %p for a port", (value) => {
    expect(() => parseWholeNumber("port", value, { min: 1, max: 65535, example: 22 })).toThrow(
      "--port must be a whole number, from 1 to 65535",
    );
  });
});

describe("did you mean", () => {
  test.each([
    ["start", "strat", 1],
    ["status", "stauts", 1],
    ["json", "jsn", 1],
    ["status", "Status", 0],
    ["abc", "abc", 0],
    ["kitten", "sitting", 3],
  ])("%p and %p are %p edits apart", (a, b, distance) => {
    expect(editDistance(a.toLowerCase(), b.toLowerCase())).toBe(distance);
  });

  test("only names within two edits (one for short words) are suggested", () => {
    expect(closestNames("strat", ["start", "status", "stop"])).toEqual(["start"]);
    expect(closestNames("xyz", ["list", "help"])).toEqual([]);
    expect(closestNames("ls", ["list"])).toEqual([]);
  });

  test("a command family or a last part suggests its commands", () => {
    const names = Object.keys(commands);
    expect(suggestCommands("strat", names)).toEqual(["start"]);
    expect(suggestCommands("deploy", names)).toEqual(["deploy:log", "deploy:hooks", "deploy:rollback"]);
    expect(suggestCommands("pull", names)).toEqual(["git:pull", "docker:pull"]);
    expect(suggestCommands("toString", names)).toEqual([]);
  });
});

describe("a cancelled prompt", () => {
  test("consola's cancel symbol becomes CancelledError; an answer passes through", () => {
    expect(() => answerOrCancel(Symbol.for("cancel"))).toThrow(CancelledError);
    expect(answerOrCancel(false)).toBe(false);
    expect(answerOrCancel("")).toBe("");
  });

  test("is reported as one line, cancelled, with exit code 130 (also consola's own reject error)", () => {
    const rejected = Object.assign(new Error("Prompt cancelled."), { name: "ConsolaPromptCancelledError" });
    for (const error of [new CancelledError(), rejected]) {
      const printed: string[] = [];
      const spy = spyOn(console, "error").mockImplementation((line: string) => void printed.push(line));
      try {
        expect(reportError(error)).toBe(EXIT.cancelled);
      } finally {
        spy.mockRestore();
      }
      expect(printed).toEqual(["cancelled"]);
    }
    expect(EXIT.cancelled).toBe(130);
  });
});

describe("the registry's examples", () => {
  test("each command's example names it and passes its own strict check, --verbose included", async () => {
    for (const [name, entry] of Object.entries(commands)) {
      const words = entry.example.match(/"[^"]*"|\S+/g)?.map((word) => word.replace(/^"(.*)"$/, "$1")) ?? [];
      expect(words.slice(0, 2)).toEqual(["protocol", name]);
      const { args } = (await entry.load()).default;
      expect(() => checkCommandLine(name, args as ArgsDef, words.slice(2))).not.toThrow();
      expect(() => checkCommandLine(name, args as ArgsDef, ["--verbose", ...words.slice(2)])).not.toThrow();
    }
  });
});
