import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GROUPS } from "../../src/commands/_groups.ts";
import { commands } from "../../src/commands/index.ts";
import { FAKE_DOCKER_DIR, Fixture } from "../helpers/fixture.ts";
import { runOnTerminal, type TerminalRun } from "../helpers/terminal.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

const errorLines = (stderr: string) =>
  stderr.split("\n").filter((line) => line.startsWith("error:") || line.startsWith("hint:"));

/** A usage error: exit 2, one error line naming `word`, a hint line, nothing on stdout. */
function expectUsageError(run: { exitCode: number; stdout: string; stderr: string }, word: string): string[] {
  expect(run.exitCode).toBe(2);
  expect(run.stdout).toBe("");
  const lines = errorLines(run.stderr);
  expect(lines).toHaveLength(2);
  expect(lines[0]).toStartWith("error:");
  expect(lines[0]).toContain(word);
  expect(lines[1]).toStartWith("hint:");
  return lines;
}

/** Nothing ran: no state for the app, no crontab, no docker call. */
function expectNothingRan(): void {
  const apps = join(fx.env.PROTOCOL_HOME!, "apps");
  expect(existsSync(apps) ? readdirSync(apps) : []).toEqual([]);
  expect(existsSync(fx.env.FAKE_CRONTAB!)).toBe(false);
  expect(fx.dockerCalls()).toEqual([]);
}

describe("strict command lines (exit 2, the offending word named)", () => {
  test("an unknown flag is refused with the nearest flag, and status prints no table", async () => {
    const run = await fx.cli(["status", "--dir", fx.node, "--jsn"]);
    const [, hint] = expectUsageError(run, "--jsn");
    expect(hint).toContain("did you mean --json?");
  });

  test("start --bogus starts nothing", async () => {
    const run = await fx.cli(["start", "--dir", fx.node, "--bogus"], { fakeDocker: true });
    expectUsageError(run, "--bogus");
    expectNothingRan();
  });

  test("stray positional words are refused", async () => {
    const run = await fx.cli(["status", "--dir", fx.node, "extra", "words"]);
    const [, hint] = expectUsageError(run, '"extra"');
    expect(hint).toContain("takes no arguments");
    expectUsageError(await fx.cli(["config:env", "production", "staging"]), '"staging"');
  });

  test.each([
    ["deploy:log", "--limit", "-3"],
    ["deploy:log", "--limit", "0"],
    ["deploy:log", "--limit", "abc"],
    ["start", "--interval", "abc"],
    ["start", "--interval", "0"],
    ["git:slave", "--interval", "-5"],
    ["config:slave", "--interval", "1.5"],
    ["git:pull", "--wait", "-1"],
    ["docker:logs", "--tail", "-1"],
    ["nginx:logs", "--tail", "ten"],
  ])("%s %s %s is a usage error naming the flag, before anything runs", async (command, flag, value) => {
    const run = await fx.cli([command, "--dir", fx.node, flag, value], { fakeDocker: true });
    const [error] = expectUsageError(run, flag);
    expect(error).toContain(JSON.stringify(value));
    expectNothingRan();
  });

  test("a count of 0 is refused alike by logs -n and deploy:log --limit: exit 2, the same message, nothing printed", async () => {
    const logs = await fx.cli(["logs", "--dir", fx.node, "-n", "0"]);
    const [logsError, logsHint] = expectUsageError(logs, "--lines");
    expect(logsError).toBe('error: --lines must be a whole number of lines, at least 1 (got "0")');
    expect(logsHint).toContain("--lines 50");
    const deploys = await fx.cli(["deploy:log", "--dir", fx.node, "--limit", "0"]);
    const [deploysError] = expectUsageError(deploys, "--limit");
    expect(deploysError).toBe('error: --limit must be a whole number of deploys, at least 1 (got "0")');
    expectNothingRan();
  });

  test("key:generate --port must be a TCP port", async () => {
    expectUsageError(await fx.cli(["key:generate", "--port", "70000"]), "--port");
    expectUsageError(await fx.cli(["key:generate", "--port", "-22"]), "--port");
  });

  test("a flag that needs a value and has none is refused, not read as empty", async () => {
    expectUsageError(await fx.cli(["deploy:log", "--dir", fx.node, "--limit"]), "--limit needs a value");
    expectUsageError(await fx.cli(["status", "--dir", "--json"]), "--dir needs a value");
  });

  test("a misspelt command gets a suggestion", async () => {
    const [, hint] = expectUsageError(await fx.cli(["strat"]), '"strat"');
    expect(hint).toContain("did you mean start?");
    const [, family] = expectUsageError(await fx.cli(["deploy"]), '"deploy"');
    expect(family).toContain("deploy:log, deploy:hooks or deploy:rollback");
    const [, after] = expectUsageError(await fx.cli(["--dir", fx.node, "stauts"]), '"stauts"');
    expect(after).toContain("did you mean status?");
  });

  test.each(["toString", "constructor", "__proto__", "hasOwnProperty"])(
    "%s is not a command (only registered names are)",
    async (name) => {
      expectUsageError(await fx.cli([name]), `unknown command "${name}"`);
    },
  );

  test("flags and no command name the problem", async () => {
    const run = await fx.cli(["--dir", fx.node]);
    expect(run.exitCode).toBe(2);
    expect(errorLines(run.stderr)[0]).toContain("no command");
  });
});

describe("what keeps working", () => {
  test("flags before the command", async () => {
    const run = await fx.cli(["--dir", fx.node, "--json", "status"]);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).dir).toBe(fx.node);
  });

  test("--flag=true, --flag=false and --no-flag for booleans; anything else is refused", async () => {
    const on = await fx.cli(["status", "--dir", fx.node, "--json=true"]);
    expect(on.exitCode).toBe(0);
    expect(JSON.parse(on.stdout).dir).toBe(fx.node);
    for (const off of [["--json=false"], ["--no-json"], ["--json", "--no-json"]]) {
      const run = await fx.cli(["status", "--dir", fx.node, ...off]);
      expect(run.exitCode).toBe(0);
      expect(() => JSON.parse(run.stdout)).toThrow();
    }
    expectUsageError(await fx.cli(["status", "--dir", fx.node, "--json=yes"]), "--json");
  });

  test("aliases: init -y writes protocol.json", async () => {
    const run = await fx.cli(["init", "--dir", fx.node, "-y"]);
    expect(run.exitCode).toBe(0);
    expect(existsSync(join(fx.node, "protocol.json"))).toBe(true);
  });

  test("--verbose is a flag of every command", async () => {
    const run = await fx.cli(["status", "--dir", fx.node, "--verbose", "--json"]);
    expect(run.exitCode).toBe(0);
  });

  test("words after -- belong to the command run in the container (fake docker)", async () => {
    writeFileSync(join(fx.node, "docker-compose.yml"), "services: {}\n");
    const run = await fx.cli(["exec", "--dir", fx.node, "--", "php", "-h", "--bogus"], {
      fakeDocker: true,
      env: { FAKE_DOCKER_SERVICES: "web" },
    });
    expect(run.exitCode).toBe(0);
    expect(fx.dockerCalls().at(-1)?.slice(-3)).toEqual(["php", "-h", "--bogus"]);
  });

  test("a command's own flags without -- are refused, and nothing runs in the container (fake docker)", async () => {
    writeFileSync(join(fx.node, "docker-compose.yml"), "services: {}\n");
    const run = await fx.cli(["exec", "--dir", fx.node, "ls", "-la"], {
      fakeDocker: true,
      env: { FAKE_DOCKER_SERVICES: "web" },
    });
    const [, hint] = expectUsageError(run, "-la");
    expect(hint).toContain("protocol exec --");
    expect(fx.dockerCalls().filter((argv) => argv.includes("exec"))).toEqual([]);
  });
});

describe("help", () => {
  test("protocol --help lists the commands in their groups", async () => {
    const run = await fx.cli(["--help"]);
    expect(run.exitCode).toBe(0);
    const titles = Object.values(GROUPS);
    const at = titles.map((title) => run.stdout.split("\n").indexOf(title));
    expect(at.every((line) => line > 0)).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    const section = (title: string) => {
      const lines = run.stdout.split("\n");
      const start = lines.indexOf(title) + 1;
      const end = lines.findIndex((line, i) => i > start && line === "");
      return lines.slice(start, end).map((line) => line.trim().split(/\s+/)[0]);
    };
    expect(section("Status and logs")).toEqual(["status", "logs", "sync"]);
    expect(section("Node lifecycle")).toEqual(["init", "start", "stop", "restart"]);
    expect(section("Deploys")).toEqual(["deploy:log", "deploy:hooks", "deploy:rollback"]);
    expect(section("Fleet rollouts")).toEqual(["fleet", "rollout:freeze", "rollout:unfreeze", "rollout:release"]);
  });

  test("list shows the same groups, and --json gives each command's group", async () => {
    const run = await fx.cli(["list"]);
    expect(run.exitCode).toBe(0);
    for (const title of Object.values(GROUPS)) expect(run.stdout.split("\n")).toContain(title);
    const rows: { name: string; group: string }[] = JSON.parse((await fx.cli(["list", "--json"])).stdout);
    expect(rows.find((row) => row.name === "git:pull")?.group).toBe(GROUPS.git);
    expect(rows.map((row) => row.name).sort()).toEqual(Object.keys(commands).sort());
  });

  test("every command has an example that starts with protocol and its name", () => {
    for (const [name, entry] of Object.entries(commands)) expect(entry.example).toStartWith(`protocol ${name}`);
  });

  // One command of each group through the real CLI (a spawn each: all 45 would cost ~20 s).
  test.each(["start", "status", "git:pull", "deploy:log", "config:link", "docker:logs", "doctor", "self:update"])(
    "%s --help and -h show its usage and its example",
    async (name) => {
      for (const flag of ["--help", "-h"]) {
        const run = await fx.cli([name, flag]);
        expect(run.exitCode).toBe(0);
        expect(run.stdout).toContain(`USAGE protocol ${name}`);
        expect(run.stdout).toContain(`EXAMPLE\n\n  ${commands[name]?.example}\n`);
      }
    },
  );
});

/**
 * Runs the CLI on a real pseudo-terminal (Bun.Terminal), waits for `prompt` to show, and sends what
 * Ctrl-C sends in raw mode (0x03). Returns the exit code and everything the terminal showed.
 */
async function ctrlCAt(args: string[], prompt: string): Promise<TerminalRun> {
  let sent = false;
  return runOnTerminal(args, {
    cwd: fx.root,
    env: { ...fx.env, PATH: `${FAKE_DOCKER_DIR}:${process.env.PATH}` },
    onScreen(screen, type) {
      if (sent || !screen.includes(prompt)) return;
      sent = true;
      // A moment for the prompt to put the terminal in raw mode after drawing itself.
      setTimeout(() => type("\x03"), 300);
    },
  });
}

describe("Ctrl-C at a prompt (real pseudo-terminal)", () => {
  test("at init's confirmation: one line, cancelled, exit 130, nothing written", async () => {
    const { exitCode, screen } = await ctrlCAt(["init", "--dir", fx.node], "Write this to");
    expect(exitCode).toBe(130);
    expect(screen).toContain("cancelled");
    expect(screen).not.toContain("bug");
    expect(screen).not.toContain("error:");
    expect(existsSync(join(fx.node, "protocol.json"))).toBe(false);
  });

  test("at config:init's question: one line, cancelled, exit 130, no config repo", async () => {
    const { exitCode, screen } = await ctrlCAt(["config:init", "--dir", fx.node], "Remote URL");
    expect(exitCode).toBe(130);
    expect(screen).toContain("cancelled");
    expect(screen).not.toContain("bug");
    expect(existsSync(`${fx.node}-config`)).toBe(false);
  });
});
