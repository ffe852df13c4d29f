import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { builtBinary } from "../helpers/binary.ts";
import { CLI, eventually, FAKE_DOCKER_DIR, Fixture, REPO_ROOT, sh } from "../helpers/fixture.ts";
import { fakeArtifact, makeSigningKey, ReleaseServer } from "../helpers/release-server.ts";

let server: ReleaseServer;
let real: string;
let root: string;
let bin: string;
let self: string;

beforeAll(async () => {
  real = await builtBinary();
  server = await ReleaseServer.start();
  await server.publish("99.0.0");
}, 120_000);
afterAll(() => server.stop());
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "protocol-self-"));
  bin = join(root, "bin");
  mkdirSync(bin);
  self = join(bin, "protocol");
  copyFileSync(real, self);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const protocol = (args: string[], env: Record<string, string> = {}) =>
  sh([self, ...args], {
    env: { PROTOCOL_DOWNLOAD_URL: server.base, PROTOCOL_MINISIGN_PUBKEY: server.publicKey, ...env },
  });
const same = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

describe("self:update (real binary, loopback release server with fake artifacts)", () => {
  test("--check reports a newer release with exit 100 and changes nothing", async () => {
    const run = await protocol(["self:update", "--check", "--json"]);
    expect(run.exitCode).toBe(100);
    expect(JSON.parse(run.stdout)).toMatchObject({ current: pkg.version, latest: "99.0.0", updateAvailable: true });
    expect(same(self, real)).toBe(true);
    expect(server.artifactRequests()).toEqual([]);
  });

  test("runs the new binary before it replaces the old one: one that says another version is refused, nothing changed", async () => {
    // Checksums match (SHA256SUMS is of these very bytes), but the binary is not the release it claims.
    await server.publish("99.1.0", { content: fakeArtifact("98.0.0"), latest: false });
    const run = await protocol(["self:update", "--version", "99.1.0"]);
    expect(run.exitCode).toBe(6);
    expect(run.stderr).toContain("the downloaded binary says it is 98.0.0, not 99.1.0");
    expect(same(self, real)).toBe(true);
    expect(readdirSync(bin).filter((name) => name.endsWith(".bak"))).toEqual([]);
  });

  test("replaces the binary with the verified release and keeps the old one as protocol.bak", async () => {
    const run = await protocol(["self:update", "--json"]);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      updated: true,
      from: pkg.version,
      to: "99.0.0",
      path: self,
      backup: `${self}.bak`,
    });
    expect((await sh([self, "--version"])).stdout.trim()).toBe("99.0.0");
    expect(same(`${self}.bak`, real)).toBe(true);
    expect(readdirSync(bin).sort()).toEqual(["protocol", "protocol.bak"]);
  });

  test("takes the .gz, unpacked in-process, where xz is not on PATH", async () => {
    server.requests.length = 0;
    const run = await protocol(["self:update", "--json"], { PATH: join(root, "empty") });
    expect(run.exitCode).toBe(0);
    expect(server.artifactRequests()).toEqual([expect.stringMatching(/\.gz$/)]);
    expect((await sh([self, "--version"])).stdout.trim()).toBe("99.0.0");
  });

  test("a checksum mismatch leaves the old binary byte-identical and keeps the download in the binary's dir", async () => {
    await server.publish("99.1.0");
    server.tamper("99.1.0", "*");
    try {
      const run = await protocol(["self:update"]);
      expect(run.exitCode).toBe(6);
      expect(run.stderr).toContain("checksum mismatch");
      expect(same(self, real)).toBe(true);
      const staged = readdirSync(bin).filter((name) => name.startsWith(".protocol-update-99.1.0-"));
      expect(staged).toHaveLength(1);
      expect(run.stderr).toContain(join(bin, staged[0]!));
    } finally {
      await server.publish("99.0.0");
    }
  });

  test("restarts a systemd-supervised loop through systemctl, on the new binary (fake systemctl, fake docker)", async () => {
    await using fx = await Fixture.create();
    await server.publish("99.2.0", { content: fakeArtifact("99.2.0", `exec '${real}' "$@"`), compressed: false });
    const systemctlLog = join(fx.root, "systemctl.log");
    const env = {
      ...fx.env,
      PROTOCOL_DOWNLOAD_URL: server.base,
      PROTOCOL_MINISIGN_PUBKEY: server.publicKey,
      PROTOCOL_SYSTEMD_DIR: join(fx.root, "units"),
      FAKE_SYSTEMCTL_LOG: systemctlLog,
      PATH: `${join(REPO_ROOT, "test", "fixtures", "fake-systemd")}:${FAKE_DOCKER_DIR}:${process.env.PATH}`,
    };
    try {
      const started = await sh([self, "start", "--dir", fx.node, "--supervisor", "systemd", "--json"], { env });
      expect(started.exitCode, started.stderr).toBe(0);
      const oldPid = JSON.parse(started.stdout).slave.pid;
      const run = await sh([self, "self:update", "--json"], { env });
      expect(run.exitCode, run.stderr).toBe(0);
      const { restarted } = JSON.parse(run.stdout);
      expect(restarted).toEqual([
        { dir: fx.node, supervisor: "systemd", oldPid, pid: expect.any(Number), replacedConfigLoop: null, error: null },
      ]);
      expect(restarted[0].pid).not.toBe(oldPid);
      expect(readFileSync(systemctlLog, "utf8")).toMatch(/\["restart","protocol-node-\w+\.service"\]\n$/);
    } finally {
      await sh([self, "stop", "--dir", fx.node], { env });
      await server.publish("99.0.0");
    }
  });

  describe("signed releases (issue 16): nothing is installed unless the release key signed SHA256SUMS", () => {
    const refused = async (message: string, env: Record<string, string> = {}) => {
      const run = await protocol(["self:update", "--version", "99.3.0"], env);
      expect(run.exitCode, run.stderr).not.toBe(0);
      expect(run.stderr).toContain(message);
      expect(same(self, real)).toBe(true);
      expect(server.artifactRequests()).toEqual([]);
      expect(readdirSync(bin)).toEqual(["protocol"]);
    };
    beforeEach(async () => {
      await server.publish("99.3.0", { latest: false });
      server.requests.length = 0;
    });

    test("a checksum file re-signed by another key is refused", async () => {
      await server.replaceRelease("99.3.0", fakeArtifact("99.3.0", "echo evil"), await makeSigningKey());
      await refused("is not signed by the release key: signed by key");
    });

    test("a release without SHA256SUMS.minisig is refused", async () => {
      server.unsign("99.3.0");
      await refused("release 99.3.0 is not signed: ");
    });

    test("binaries and SHA256SUMS replaced together, the old signature kept, are refused", async () => {
      await server.replaceRelease("99.3.0", fakeArtifact("99.3.0", "echo evil"), null);
      await refused("the signature does not match the file");
    });

    test("an older release's signed SHA256SUMS served as a new one is refused", async () => {
      server.replay("99.3.0", "99.0.0");
      await refused('was signed for another one ("protocol 99.0.0 SHA256SUMS")');
    });

    test("a build without a release key and no PROTOCOL_MINISIGN_PUBKEY cannot verify, and says how", async () => {
      await refused("has no release key", { PROTOCOL_MINISIGN_PUBKEY: "" });
    });
  });

  test("--rollback puts protocol.bak back and keeps the current binary as the new .bak", async () => {
    writeFileSync(`${self}.bak`, fakeArtifact("0.0.9"), { mode: 0o755 });
    const run = await protocol(["self:update", "--rollback", "--json"]);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ from: pkg.version, to: "0.0.9" });
    expect((await sh([self, "--version"])).stdout.trim()).toBe("0.0.9");
    expect(same(`${self}.bak`, real)).toBe(true);
  });

  test("refuses beside a .disable-self-update marker, and from source", async () => {
    writeFileSync(join(bin, ".disable-self-update"), "");
    const marked = await protocol(["self:update"]);
    expect(marked.exitCode).toBe(4);
    expect(marked.stderr).toContain("package manager");
    const source = await sh([process.execPath, CLI, "self:update"], { env: { PROTOCOL_DOWNLOAD_URL: server.base } });
    expect(source.exitCode).toBe(4);
    expect(source.stderr).toContain("running from source");
    expect(same(self, real)).toBe(true);
  });

  test("restarts a running slave loop on the new binary (fake docker)", async () => {
    await using fx = await Fixture.create();
    // The new release answers --version itself and runs everything else with the real binary.
    await server.publish("99.2.0", { content: fakeArtifact("99.2.0", `exec '${real}' "$@"`), compressed: false });
    try {
      const env = {
        ...fx.env,
        PROTOCOL_DOWNLOAD_URL: server.base,
        PROTOCOL_MINISIGN_PUBKEY: server.publicKey,
        PATH: `${FAKE_DOCKER_DIR}:${process.env.PATH}`,
      };
      const started = await sh([self, "start", "--dir", fx.node, "--interval", "60", "--json"], { env });
      expect(started.exitCode).toBe(0);
      const before = (await sh([self, "status", "--dir", fx.node, "--json"], { env })).stdout;
      const oldPid = JSON.parse(before).slave.pid;
      const run = await sh([self, "self:update", "--json"], { env });
      expect(run.exitCode).toBe(0);
      const { restarted } = JSON.parse(run.stdout);
      expect(restarted).toEqual([
        { dir: fx.node, supervisor: "cron", oldPid, pid: expect.any(Number), replacedConfigLoop: null, error: null },
      ]);
      expect(restarted[0].pid).not.toBe(oldPid);
      expect(
        await eventually(
          async () =>
            JSON.parse((await sh([self, "status", "--dir", fx.node, "--json"], { env })).stdout).slave.pid ===
            restarted[0].pid,
        ),
      ).toBe(true);
    } finally {
      await server.publish("99.0.0");
    }
  });
});

describe("self:global (real binary)", () => {
  test("copies the binary into the dir, idempotently, and warns when the dir is not on PATH", async () => {
    const target = join(root, "global");
    const first = await protocol(["self:global", "--json"], { PROTOCOL_INSTALL_DIR: target });
    expect(first.exitCode).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      path: join(target, "protocol"),
      mode: "copy",
      changed: true,
      onPath: false,
    });
    expect(first.stderr).toContain("not on PATH");
    expect(same(join(target, "protocol"), real)).toBe(true);
    const second = await protocol(["self:global", "--dir", target, "--json"]);
    expect(JSON.parse(second.stdout).changed).toBe(false);
    expect(readdirSync(target)).toEqual(["protocol"]);
  });

  test("--link makes a symlink to the running binary", async () => {
    const target = join(root, "linked");
    const run = await protocol(["self:global", "--dir", target, "--link"], { PATH: `${target}:${process.env.PATH}` });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).not.toContain("not on PATH");
    expect(lstatSync(join(target, "protocol")).isSymbolicLink()).toBe(true);
  });
});
