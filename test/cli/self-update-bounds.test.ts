/**
 * Issue 29 item 8, "release downloads are unbounded": self:update (the real binary) against release
 * hosts that misbehave. Every download has a size cap, a free-space check (with a reserve) before
 * and while it writes, an idle and a total time limit; a failure removes the partial file and
 * names it; "latest" never goes backwards. Small file systems are tmpfs mounts (root).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { builtBinary } from "../helpers/binary.ts";
import { sh } from "../helpers/fixture.ts";
import { type HostileHost, type Misbehaviour, publishHostile } from "../helpers/hostile-http.ts";
import { testNeeding } from "../helpers/needs.ts";
import { fakeArtifact, ReleaseServer } from "../helpers/release-server.ts";
import { mountTmpfs, TMPFS_NEEDS, unmountTmpfs } from "../helpers/tmpfs.ts";

const MB = 1024 * 1024;
let server: ReleaseServer;
let real: string;
let root: string;
let bin: string;
let self: string;
const hosts: HostileHost[] = [];

beforeAll(async () => {
  real = await builtBinary();
  server = await ReleaseServer.start();
  await server.publish("99.0.0");
}, 120_000);
afterAll(() => server.stop());
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "protocol-self-bounds-"));
  bin = join(root, "bin");
});
afterEach(async () => {
  for (const host of hosts.splice(0)) host.stop();
  await unmountTmpfs();
  rmSync(root, { recursive: true, force: true });
});

/** The binary in `bin`, on a tmpfs with `freeMb` MB free beside it when asked. */
async function install(freeMb?: number): Promise<void> {
  if (freeMb !== undefined) await mountTmpfs(bin, `${Math.ceil(statSync(real).size / MB) + freeMb}m`);
  else mkdirSync(bin);
  self = join(bin, "protocol");
  copyFileSync(real, self);
}

/** Release `version`, its binaries served by a host that misbehaves so. */
const hostile = (version: string, behaviour: Misbehaviour) => publishHostile(server, hosts, version, behaviour);

const update = (args: string[], env: Record<string, string> = {}) =>
  sh([self, "self:update", ...args], {
    env: { PROTOCOL_DOWNLOAD_URL: server.base, PROTOCOL_MINISIGN_PUBKEY: server.publicKey, ...env },
  });

/** The failure left the binary as it was, and nothing beside it; the error named the partial file. */
function nothingLeft(run: { stderr: string }, version: string, named = true): void {
  expect(readFileSync(self).equals(readFileSync(real))).toBe(true);
  expect(readdirSync(bin)).toEqual(["protocol"]);
  if (named) expect(run.stderr).toMatch(new RegExp(`${bin}/\\.protocol-update-${version}-protocol-\\S+ was removed`));
}

describe("self:update bounds what it downloads (issue 29)", () => {
  test("a host that streams for ever is cut off at PROTOCOL_DOWNLOAD_MAX_BYTES and the partial file removed", async () => {
    await install();
    const host = await hostile("99.5.0", { kind: "forever" });
    const run = await update(["--version", "99.5.0"], { PROTOCOL_DOWNLOAD_MAX_BYTES: String(MB) });
    expect(run.exitCode, run.stderr).toBe(5);
    expect(run.stderr).toContain("sent more than 1 MB; refused");
    nothingLeft(run, "99.5.0");
    expect(host.sent).toBeLessThan(64 * MB);
  });

  test("streams to disk, not memory: 128 MB of a download keeps peak RSS under 112 MB, less than it downloaded (/usr/bin/time)", async () => {
    await install();
    await hostile("99.5.0", { kind: "forever" });
    const run = await sh(["/usr/bin/time", "-f", "peak-rss-kb %M", self, "self:update", "--version", "99.5.0"], {
      env: {
        PROTOCOL_DOWNLOAD_URL: server.base,
        PROTOCOL_MINISIGN_PUBKEY: server.publicKey,
        PROTOCOL_DOWNLOAD_MAX_BYTES: String(128 * MB),
      },
    });
    expect(run.stderr).toContain("sent more than 128 MB; refused");
    const peakKb = Number(/peak-rss-kb (\d+)/.exec(run.stderr)?.[1]);
    expect(peakKb).toBeGreaterThan(0);
    console.log(`self:update peak RSS through 128 MB of download: ${(peakKb / 1024).toFixed(0)} MB`);
    expect(peakKb * 1024).toBeLessThan(112 * MB);
    nothingLeft(run, "99.5.0");
  }, 60_000);

  testNeeding(TMPFS_NEEDS)(
    "a host that streams for ever into a small file system stops with the reserve still free, and names and removes the partial file",
    async () => {
      await install(40);
      await hostile("99.5.0", { kind: "forever" });
      const run = await update(["--version", "99.5.0"]);
      expect(run.exitCode, run.stderr).toBe(4);
      expect(run.stderr).toContain(`not enough disk space for ${server.base}/download/v99.5.0/protocol-`);
      expect(run.stderr).toMatch(/ has 1\d MB free and keeps 16 MB free /);
      nothingLeft(run, "99.5.0");
    },
    60_000,
  );

  testNeeding(TMPFS_NEEDS)(
    "a host that announces more than the free space is refused before anything is written",
    async () => {
      await install(24);
      await hostile("99.5.0", { kind: "announce", bytes: 64 * MB });
      const run = await update(["--version", "99.5.0"]);
      expect(run.exitCode, run.stderr).toBe(4);
      expect(run.stderr).toMatch(/not enough disk space for \S+ \(64 MB\): \S+ has 2\d MB free and keeps 16 MB free\n/);
      nothingLeft(run, "99.5.0", false);
      expect(run.stderr).not.toContain("was removed");
    },
    60_000,
  );

  test("a host that goes silent is cut off after PROTOCOL_DOWNLOAD_IDLE_TIMEOUT", async () => {
    await install();
    await hostile("99.5.0", { kind: "stall", bytes: 100_000 });
    const run = await update(["--version", "99.5.0"], { PROTOCOL_DOWNLOAD_IDLE_TIMEOUT: "1" });
    expect(run.exitCode, run.stderr).toBe(5);
    expect(run.stderr).toMatch(/no data from \S+ for 1s/);
    expect(run.stderr).toContain("PROTOCOL_DOWNLOAD_IDLE_TIMEOUT");
    nothingLeft(run, "99.5.0");
  }, 30_000);

  test("a host that drips a byte at a time is cut off after PROTOCOL_DOWNLOAD_TIMEOUT", async () => {
    await install();
    await hostile("99.5.0", { kind: "drip", everyMs: 100 });
    const run = await update(["--version", "99.5.0"], {
      PROTOCOL_DOWNLOAD_IDLE_TIMEOUT: "1",
      PROTOCOL_DOWNLOAD_TIMEOUT: "2",
    });
    expect(run.exitCode, run.stderr).toBe(5);
    expect(run.stderr).toMatch(/\S+ did not finish downloading in 2s/);
    expect(run.stderr).toContain("PROTOCOL_DOWNLOAD_TIMEOUT");
    nothingLeft(run, "99.5.0");
  }, 30_000);

  for (const [signal, code] of [
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const) {
    test(`${signal} during the download removes the partial file and exits ${code}`, async () => {
      await install();
      await hostile("99.5.0", { kind: "drip", everyMs: 50 });
      const child = Bun.spawn([self, "self:update", "--version", "99.5.0"], {
        env: { ...process.env, PROTOCOL_DOWNLOAD_URL: server.base, PROTOCOL_MINISIGN_PUBKEY: server.publicKey },
        stdout: "ignore",
        stderr: "pipe",
      });
      const staged = () => readdirSync(bin).filter((name) => name.startsWith(".protocol-update-"));
      for (let i = 0; i < 200 && staged().length === 0; i++) await Bun.sleep(25);
      expect(staged()).toHaveLength(1);
      child.kill(signal);
      const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);
      expect(exitCode, stderr).toBe(code);
      expect(stderr).toContain(`${signal}: stopped; removed ${bin}/.protocol-update-99.5.0-protocol-`);
      nothingLeft({ stderr }, "99.5.0", false);
    }, 30_000);
  }

  for (const packed of ["xz", "gz"] as const) {
    testNeeding(TMPFS_NEEDS)(
      `a .${packed} that would not fit once unpacked is refused before unpacking, and removed`,
      async () => {
        await install(24);
        // 40 MB that xz and gzip pack into a few KB.
        const content = fakeArtifact("99.6.0", `# ${"x".repeat(40 * MB)}`);
        await server.publish("99.6.0", { content, latest: false });
        // Without xz on PATH the .gz is taken.
        const run = await update(["--version", "99.6.0"], packed === "gz" ? { PATH: join(root, "empty") } : {});
        expect(run.exitCode, run.stderr).toBe(4);
        expect(run.stderr).toContain(`not enough disk space for unpacking ${bin}/.protocol-update-99.6.0-`);
        expect(run.stderr).toMatch(new RegExp(`\\.${packed} \\(40 MB\\): .* \\(the download was removed\\)`));
        nothingLeft(run, "99.6.0", false);
      },
      60_000,
    );
  }
});

describe("self:update does not go backwards on its own (issue 29)", () => {
  test('a "latest" older than this binary is refused, with the command that installs it anyway', async () => {
    await install();
    await server.publish("0.0.5");
    try {
      server.requests.length = 0;
      const run = await update([]);
      expect(run.exitCode, run.stderr).toBe(4);
      expect(run.stderr).toContain(`the latest release is 0.0.5, older than this protocol (${pkg.version})`);
      expect(run.stderr).toContain("protocol self:update --version 0.0.5");
      expect(server.artifactRequests()).toEqual([]);
      nothingLeft(run, "0.0.5", false);
      const check = await update(["--check"]);
      expect(check.exitCode, check.stderr).toBe(0);
      expect(check.stderr).toContain(
        `protocol ${pkg.version} is newer than the latest release (0.0.5): nothing to update`,
      );
      const asked = await update(["--version", "0.0.5"]);
      expect(asked.exitCode, asked.stderr).toBe(0);
      expect((await sh([self, "--version"])).stdout.trim()).toBe("0.0.5");
    } finally {
      await server.publish("99.0.0");
    }
  });
});
