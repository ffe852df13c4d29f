/**
 * Issue 29, items 1 and 3: every limit on a child holds for what the child started too, and what a
 * child prints is kept bounded. Real processes (sh, sleep, head), real helpers on PATH that misbehave
 * on purpose, and a real TCP server that accepts and never answers an http remote.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINE_MAX_CHARS, OUTPUT_TAIL_BYTES } from "../../src/lib/core/bounded.ts";
import { run } from "../../src/lib/core/spawn.ts";
import { askHelper } from "../../src/lib/docker/credentials.ts";
import { lsRemoteBranch } from "../../src/lib/git/git.ts";
import { eventually } from "../helpers/fixture.ts";
import { killProcessesWithArgv, processesWithArgv } from "../helpers/processes.ts";

const saved = { ...process.env };
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "protocol-bounds-"));
});
afterEach(() => {
  process.env = { ...saved };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A program on PATH, written for this test. */
function program(name: string, script: string): void {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  process.env.PATH = `${dir}:${saved.PATH}`;
}

describe("a limit kills the child's whole group", () => {
  test("an idle limit: the grandchild that holds the pipe dies with the child, and the run returns", async () => {
    const marker = ["sleep", "301.25"];
    try {
      const result = await run(["sh", "-c", "sleep 301.25 & sleep 301.25"], { idleTimeoutMs: 300 });
      expect(result.timedOut).toBe(true);
      expect(result.ok).toBe(false);
      expect(await eventually(() => processesWithArgv(marker).length === 0, 5_000)).toBe(true);
    } finally {
      killProcessesWithArgv(marker);
    }
  }, 20_000);

  test("a total limit: SIGTERM to the group, whatever it prints meanwhile", async () => {
    const marker = ["sleep", "302.25"];
    try {
      const result = await run(["sh", "-c", "sleep 302.25 & while :; do echo .; sleep 0.1; done"], {
        timeoutMs: 500,
      });
      expect(result.timedOut).toBe(true);
      expect(await eventually(() => processesWithArgv(marker).length === 0, 5_000)).toBe(true);
    } finally {
      killProcessesWithArgv(marker);
    }
  }, 20_000);

  test("without a limit, a child that exits while something it left holds its pipes still returns", async () => {
    const marker = ["sleep", "303.25"];
    try {
      const result = await run(["sh", "-c", "sleep 303.25 & echo done"]);
      expect(result.ok).toBe(true);
      expect(result.stdout).toBe("done\n");
    } finally {
      killProcessesWithArgv(marker);
    }
  }, 20_000);
});

describe("docker credential helpers that misbehave", () => {
  test("one whose child sleeps holding its stdout is given up after the helper timeout, child and all", async () => {
    program("docker-credential-stuck", "sleep 304.25 &\nwait");
    process.env.PROTOCOL_CREDENTIAL_HELPER_TIMEOUT = "1";
    try {
      await expect(askHelper("stuck", "registry.example")).rejects.toThrow(/no answer within 1s/);
      expect(await eventually(() => processesWithArgv(["sleep", "304.25"]).length === 0, 5_000)).toBe(true);
    } finally {
      killProcessesWithArgv(["sleep", "304.25"]);
    }
  }, 20_000);

  test("one that prints a space every 100 ms never goes idle, and is given up at the total limit", async () => {
    program("docker-credential-drip", "while :; do printf ' '; sleep 0.1; done");
    process.env.PROTOCOL_CREDENTIAL_HELPER_TIMEOUT = "1";
    await expect(askHelper("drip", "registry.example")).rejects.toThrow(/no answer within 1s/);
  }, 20_000);

  test("its stderr may hold the secret: the error shows its exit code and its first line, tokens masked", async () => {
    program(
      "docker-credential-leaky",
      "echo 'denied for token ghp_0123456789abcdefABCDEF0123 (expired)' >&2\necho 'second line secret' >&2\nexit 3",
    );
    const error = await askHelper("leaky", "registry.example").catch((e: Error) => e);
    expect(String(error)).toContain("exit 3: denied for token [redacted] (expired)");
    expect(String(error)).not.toContain("ghp_0123456789");
    expect(String(error)).not.toContain("second line");
  });
});

describe("an http remote that accepts and never answers", () => {
  test("ls-remote is given up after the network timeout, and no git-remote-http is left", async () => {
    const sockets: { end(): void }[] = [];
    const server = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: { open: (socket) => void sockets.push(socket), data() {} },
    });
    const url = `http://127.0.0.1:${server.port}/app.git`;
    const repo = mkdtempSync(join(dir, "repo-"));
    await run(["git", "init", "--quiet", repo]);
    try {
      process.env.PROTOCOL_NETWORK_TIMEOUT = "1";
      await expect(lsRemoteBranch({ dir: repo }, url, "main")).rejects.toThrow(/unreachable: nothing received for 1s/);
      const helpers = () =>
        readdirSync("/proc").filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(url);
          } catch {
            return false;
          }
        });
      expect(await eventually(() => helpers().length === 0, 5_000)).toBe(true);
    } finally {
      for (const socket of sockets) socket.end();
      server.stop(true);
    }
  }, 30_000);
});

describe("what a child prints is kept bounded", () => {
  test("a 20 MB line: the lines handed on are cut, the kept tail is 64 KB", async () => {
    const lines: string[] = [];
    const result = await run(["sh", "-c", "head -c 20000000 /dev/zero | tr '\\0' x; echo; echo last"], {
      tailOnly: true,
      onLine: (line) => lines.push(line),
    });
    expect(result.ok).toBe(true);
    expect(result.stdout.length).toBe(OUTPUT_TAIL_BYTES);
    expect(result.stdout.endsWith("x\nlast\n")).toBe(true);
    expect(lines).toHaveLength(2);
    expect(lines[0]!.length).toBeLessThan(LINE_MAX_CHARS + 60);
    expect(lines[0]).toEndWith(`(${20_000_000 - LINE_MAX_CHARS} more characters cut)`);
    expect(lines[1]).toBe("last");
  }, 30_000);

  test("stderr keeps its last 64 KB: the end of a long error is what explains it", async () => {
    const result = await run(["sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' e >&2; echo ' the cause' >&2; exit 2"]);
    expect(result.stderr.length).toBe(OUTPUT_TAIL_BYTES);
    expect(result.stderr).toEndWith("e the cause\n");
  });

  test("stdout that is read whole is cut off past its limit: the child killed, the run failed, saying why", async () => {
    const result = await run(["sh", "-c", "exec head -c 50000000 /dev/zero"], { maxStdoutBytes: 1024 * 1024 });
    expect(result.ok).toBe(false);
    expect(result.stdout.length).toBeLessThanOrEqual(1024 * 1024);
    expect(result.stderr).toContain("it printed more than 1 MB: stopped by protocol");
  }, 30_000);
});

describe("a child that does not read its input", () => {
  test("one that exits at once (a helper failing before it reads): its exit code and stderr, not EPIPE", async () => {
    for (let i = 0; i < 30; i++) {
      const result = await run(["sh", "-c", "echo 'refused: no such registry' >&2; exit 3"], {
        input: "x".repeat(1024 * 1024),
        timeoutMs: 5_000,
      });
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toContain("refused: no such registry");
    }
  }, 30_000);
});
