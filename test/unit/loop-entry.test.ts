/**
 * src/loop.ts, the background loop's own entry: it reads the command line protocol writes for its
 * loop exactly as the dispatcher does, and hands every other one to the dispatcher.
 */
import { describe, expect, test } from "bun:test";
import { parseArgs } from "citty";
import { readInterval, readPolicies } from "../../src/commands/_args.ts";
import slave from "../../src/commands/git/slave.ts";
import { checkCommandLine } from "../../src/lib/core/argv.ts";
import { slaveFlags } from "../../src/lib/node/lifecycle.ts";
import { readLoopCommandLine } from "../../src/loop.ts";

/** What the dispatcher makes of `git:slave <words>`: checkCommandLine, then citty, then the command's readers. */
function dispatched(words: string[]) {
  const args = slave.args as Parameters<typeof checkCommandLine>[1];
  const parsed = parseArgs(checkCommandLine("git:slave", args, words), args) as Record<string, unknown>;
  return {
    dir: parsed.dir as string | undefined,
    verbose: parsed.verbose === true,
    options: { intervalSeconds: readInterval(parsed), ...readPolicies(parsed) },
  };
}

describe("the loop's own entry", () => {
  const written = [
    slaveFlags({ intervalSeconds: undefined, onDirty: "refuse", onDiverged: "refuse" }),
    slaveFlags({ intervalSeconds: 30, onDirty: "stash", onDiverged: "reset" }),
    slaveFlags({ intervalSeconds: 1, onDirty: "refuse", onDiverged: "reset" }),
  ];
  test.each(written)("reads the command line protocol writes for its loop as the dispatcher does (%p)", (...flags) => {
    const words = ["--foreground", "--dir", "/srv/my app", ...flags];
    const line = readLoopCommandLine(["git:slave", ...words]);
    expect(line).not.toBeNull();
    expect(line).toEqual(dispatched(words));
  });

  test.each([
    ["--interval=5 and --dir=…", ["--foreground", "--dir=/srv/app", "--interval=5"]],
    ["--verbose, flags in any order", ["--verbose", "--interval", "7", "--foreground"]],
    ["--on-dirty as a separate word", ["--foreground", "--on-dirty", "stash"]],
  ])("reads %s as the dispatcher does", (_name, words) => {
    expect(readLoopCommandLine(["git:slave", ...words])).toEqual(dispatched(words));
  });

  test.each([
    ["no --foreground", ["git:slave", "--dir", "/srv/app"]],
    ["another command", ["config:slave", "--foreground", "--dir", "/srv/app"]],
    ["the command after a flag", ["--dir", "/srv/app", "git:slave", "--foreground"]],
    ["--help", ["git:slave", "--foreground", "--help"]],
    ["--json", ["git:slave", "--foreground", "--json"]],
    ["an unknown flag", ["git:slave", "--foreground", "--bogus"]],
    ["a flag given twice", ["git:slave", "--foreground", "--dir", "/a", "--dir", "/b"]],
    ["--foreground twice", ["git:slave", "--foreground", "--foreground"]],
    ["a flag without its value", ["git:slave", "--foreground", "--dir"]],
    ["an empty value", ["git:slave", "--foreground", "--dir="]],
    ["a value that looks like a flag", ["git:slave", "--foreground", "--dir", "-x"]],
    ["a bad interval", ["git:slave", "--foreground", "--interval", "0"]],
    ["an interval that is not a whole number", ["git:slave", "--foreground", "--interval", "1e3"]],
    ["a bad choice", ["git:slave", "--foreground", "--on-dirty=bogus"]],
    ["a word", ["git:slave", "--foreground", "production"]],
    ["--", ["git:slave", "--foreground", "--"]],
    ["--no-verbose", ["git:slave", "--foreground", "--no-verbose"]],
    ["a short alias", ["git:slave", "--foreground", "-h"]],
  ])("hands on %s to the dispatcher", (_name, argv) => {
    expect(readLoopCommandLine(argv)).toBeNull();
  });
});
