/**
 * Issue 29 item 8: install.sh's downloads are bounded as self:update's are (size, free space less a
 * reserve, silence, total time; the same variables), leave nothing behind when stopped, and "latest"
 * never installs over a newer protocol. Against a host that misbehaves at the TCP level, with curl
 * and with wget; small file systems are tmpfs mounts (root).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sh } from "../helpers/fixture.ts";
import { type HostileHost, type Misbehaviour, publishHostile } from "../helpers/hostile-http.ts";
import { BASE_TOOLS, runInstallSh, toolsDir } from "../helpers/install-sh.ts";
import { testNeeding } from "../helpers/needs.ts";
import { ReleaseServer } from "../helpers/release-server.ts";
import { mountTmpfs, TMPFS_NEEDS, unmountTmpfs } from "../helpers/tmpfs.ts";

const MB = 1024 * 1024;
let server: ReleaseServer;
let root: string;
let dir: string;
const hosts: HostileHost[] = [];

beforeAll(async () => {
  server = await ReleaseServer.start();
  await server.publish("1.1.0");
  await server.publish("1.2.0");
});
afterAll(() => server.stop());
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "protocol-install-bounds-"));
  dir = join(root, "bin");
  server.requests.length = 0;
});
afterEach(async () => {
  for (const host of hosts.splice(0)) host.stop();
  await unmountTmpfs();
  rmSync(root, { recursive: true, force: true });
});

/** Release `version`, its binaries served by a host that misbehaves so. */
const hostile = (version: string, behaviour: Misbehaviour) => publishHostile(server, hosts, version, behaviour);

const TOOLS = {
  curl: () => toolsDir(root, BASE_TOOLS),
  wget: () => toolsDir(root, [...BASE_TOOLS.filter((tool) => tool !== "curl"), "wget", "timeout"]),
};

const install = (version: string, tool: keyof typeof TOOLS, env: Record<string, string> = {}) =>
  runInstallSh(server, ["--dir", dir, "--version", version], { PATH: TOOLS[tool](), ...env });

/** Stopped: exit 1, the message says why, nothing is left in the install dir (not even its temp dir). */
function stopped(run: { exitCode: number; stderr: string }, why: string | RegExp): void {
  expect(run.exitCode, run.stderr).toBe(1);
  if (typeof why === "string") expect(run.stderr).toContain(why);
  else expect(run.stderr).toMatch(why);
  expect(readdirSync(dir)).toEqual([]);
}

describe("install.sh bounds what it downloads (issue 29)", () => {
  for (const tool of ["curl", "wget"] as const) {
    test(`${tool}: a host that streams for ever is cut off at PROTOCOL_DOWNLOAD_MAX_BYTES and the partial file named`, async () => {
      const host = await hostile("1.5.0", { kind: "forever" });
      const run = await install("1.5.0", tool, { PROTOCOL_DOWNLOAD_MAX_BYTES: String(MB) });
      stopped(run, "it is larger than 1048576 bytes (PROTOCOL_DOWNLOAD_MAX_BYTES)");
      expect(run.stderr).toMatch(/the partial download \S+\/\.protocol-install\.\w+\/protocol-\S+ was removed/);
      expect(host.sent).toBeLessThan(64 * MB);
    }, 30_000);

    test(`${tool}: a host that drips a byte at a time is cut off after PROTOCOL_DOWNLOAD_TIMEOUT`, async () => {
      await hostile("1.5.0", { kind: "drip", everyMs: 100 });
      const run = await install("1.5.0", tool, { PROTOCOL_DOWNLOAD_TIMEOUT: "2" });
      stopped(run, /not done in 2s \(.*PROTOCOL_DOWNLOAD_TIMEOUT\)/);
    }, 30_000);
  }

  test("curl: a host that goes silent is cut off after PROTOCOL_DOWNLOAD_IDLE_TIMEOUT", async () => {
    await hostile("1.5.0", { kind: "stall", bytes: 100_000 });
    const run = await install("1.5.0", "curl", { PROTOCOL_DOWNLOAD_IDLE_TIMEOUT: "1" });
    stopped(run, "no data for 1s or not done in 900s (PROTOCOL_DOWNLOAD_IDLE_TIMEOUT, PROTOCOL_DOWNLOAD_TIMEOUT)");
    // curl retries a stalled transfer 3 times (1 + 2 + 4 s apart): within the total limit, so ~20 s here.
  }, 90_000);

  testNeeding(TMPFS_NEEDS)(
    "a host that streams for ever into a small file system stops with the reserve still free",
    async () => {
      await mountTmpfs(dir, "32m");
      await hostile("1.5.0", { kind: "forever" });
      const run = await install("1.5.0", "curl");
      stopped(run, /it does not fit: \S+ has 3\d MB free and keeps 16 MB free; free space there and retry/);
    },
    30_000,
  );

  testNeeding(TMPFS_NEEDS)(
    "a host that announces more than the free space is refused before anything is written",
    async () => {
      await mountTmpfs(dir, "32m");
      const host = await hostile("1.5.0", { kind: "announce", bytes: 64 * MB });
      const run = await install("1.5.0", "curl");
      stopped(run, "it does not fit:");
      // curl read the headers and hung up: far less than the 16 MB it could have written.
      expect(host.sent).toBeLessThan(64 * MB);
    },
    30_000,
  );
});

describe("install.sh does not go backwards on its own (issue 29)", () => {
  test('a "latest" older than the installed protocol is refused; --version installs it', async () => {
    expect((await runInstallSh(server, ["--dir", dir])).exitCode).toBe(0);
    await server.publish("1.0.5");
    try {
      server.requests.length = 0;
      const run = await runInstallSh(server, ["--dir", dir]);
      expect(run.exitCode, run.stderr).toBe(1);
      expect(run.stderr).toContain("the latest release is 1.0.5, older than the protocol 1.2.0 installed at");
      expect(run.stderr).toContain("pass --version 1.0.5");
      expect(server.artifactRequests()).toEqual([]);
      expect(readdirSync(dir)).toEqual(["protocol"]);
      expect((await sh([join(dir, "protocol"), "--version"])).stdout.trim()).toBe("1.2.0");
      const asked = await runInstallSh(server, ["--dir", dir, "--version", "1.0.5"]);
      expect(asked.exitCode, asked.stderr).toBe(0);
      expect((await sh([join(dir, "protocol"), "--version"])).stdout.trim()).toBe("1.0.5");
    } finally {
      await server.publish("1.2.0");
    }
  });

  test("a protocol that cannot say its version is replaced by the latest", async () => {
    await sh(["mkdir", "-p", dir]);
    await Bun.write(join(dir, "protocol"), "#!/bin/sh\nexit 1\n");
    await sh(["chmod", "755", join(dir, "protocol")]);
    const run = await runInstallSh(server, ["--dir", dir]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(existsSync(join(dir, "protocol"))).toBe(true);
    expect((await sh([join(dir, "protocol"), "--version"])).stdout.trim()).toBe("1.2.0");
  });
});
