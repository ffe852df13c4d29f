import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, parseProtocolJson } from "../../src/lib/app/app.ts";
import { appPaths } from "../../src/lib/core/paths.ts";
import { checkStatusRemote } from "../../src/lib/fleet/check.ts";
import { checkDeployKey, checkDisk, checkKnownHosts } from "../../src/lib/node/doctor-checks.ts";
import { sh } from "../helpers/fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "protocol-doctor-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function app(git: Record<string, unknown>): App {
  return {
    dir,
    name: "app",
    configPath: null,
    config: parseProtocolJson(JSON.stringify({ git }), join(dir, "protocol.json")),
    paths: appPaths(dir),
    project: "app",
  };
}

/** A known_hosts file holding a real ed25519 key for the given host patterns (real ssh-keygen reads it). */
async function knownHosts(...hosts: string[]): Promise<string> {
  const key = join(dir, `key-${hosts.length}-${Date.now()}`);
  await sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key]);
  const pub = (await Bun.file(`${key}.pub`).text()).split(" ").slice(0, 2).join(" ");
  const file = join(dir, `known_hosts-${Date.now()}`);
  writeFileSync(file, hosts.map((host) => `${host} ${pub}\n`).join(""));
  return file;
}

describe("checkKnownHosts (real ssh-keygen)", () => {
  test("finds the git host of an scp-style remote", async () => {
    const file = await knownHosts("github.com");
    expect(await checkKnownHosts("git@github.com:acme/shop.git", [file])).toMatchObject({
      ok: true,
      detail: `github.com is in ${file}`,
    });
  });

  test("looks up [host]:port for an ssh:// remote on another port", async () => {
    const file = await knownHosts("[127.0.0.1]:2222");
    expect((await checkKnownHosts("ssh://git@127.0.0.1:2222/~/repo.git", [file])).ok).toBe(true);
    const check = await checkKnownHosts("ssh://git@127.0.0.1:2200/~/repo.git", [file]);
    expect(check).toMatchObject({ ok: false, detail: "no known_hosts entry for [127.0.0.1]:2200" });
    expect(check.fix).toContain("ssh-keyscan -p 2200 127.0.0.1");
  });

  test("is not needed for https and local remotes", async () => {
    expect(await checkKnownHosts("https://github.com/acme/shop.git", [])).toMatchObject({ ok: true, skipped: true });
    expect(await checkKnownHosts("/srv/git/shop.git", [])).toMatchObject({ ok: true, skipped: true });
  });

  test("fails with ssh-keyscan as the fix when no file has the host", async () => {
    const file = await knownHosts("gitlab.com");
    const check = await checkKnownHosts("git@github.com:acme/shop.git", [file, join(dir, "missing")]);
    expect(check).toMatchObject({ ok: false, fix: expect.stringContaining("ssh-keyscan github.com") });
  });
});

describe("checkDeployKey", () => {
  test("passes for a key only its owner can read, and fails with chmod 600 otherwise", () => {
    const key = join(dir, "deploy_ed25519");
    writeFileSync(key, "not really a key\n", { mode: 0o600 });
    expect(checkDeployKey(app({ key }))).toMatchObject({ ok: true, detail: key });
    chmodSync(key, 0o644);
    expect(checkDeployKey(app({ key }))).toMatchObject({ ok: false, fix: `chmod 600 ${key}` });
  });

  test("a missing key file points at key:generate; no git.key is not applicable", () => {
    expect(checkDeployKey(app({ key: "nope" }))).toMatchObject({
      ok: false,
      fix: expect.stringContaining("key:generate"),
    });
    expect(checkDeployKey(app({}))).toMatchObject({ ok: true, skipped: true });
  });
});

describe("checkDisk", () => {
  test("reads free space with statfs, and reports a path it cannot read", async () => {
    expect((await checkDisk("disk (app)", dir)).detail).toMatch(/free of .* in /);
    expect(await checkDisk("disk (app)", join(dir, "missing"))).toMatchObject({
      ok: false,
      detail: expect.stringContaining("cannot read free space"),
    });
  });
});

describe("checkStatusRemote (real git)", () => {
  const rolloutApp = (statusRemote?: string): App => ({
    dir,
    name: "app",
    configPath: null,
    config: parseProtocolJson(
      JSON.stringify({ rollout: statusRemote ? { statusRemote } : {} }),
      join(dir, "protocol.json"),
    ),
    paths: appPaths(dir),
    project: "app",
  });

  test("is skipped without a status remote, passes when it answers, fails with a fix when it does not", async () => {
    expect(await checkStatusRemote(rolloutApp())).toMatchObject({ ok: true, skipped: true });
    const bare = join(dir, "status.git");
    await sh(["git", "init", "--quiet", "--bare", bare]);
    process.env.PROTOCOL_NODE_ID = "web-1";
    try {
      const ok = await checkStatusRemote(rolloutApp(bare));
      expect(ok).toMatchObject({ ok: true });
      expect(ok.detail).toContain("node web-1 in default: no record yet");
      const down = await checkStatusRemote(rolloutApp("git://127.0.0.1:1/status.git"));
      expect(down).toMatchObject({ ok: false });
      expect(down.detail).toContain("later waves wait");
      expect(down.fix).toContain("PROTOCOL_FLEET_GIT_USERNAME");
      process.env.PROTOCOL_NODE_ID = "bad/id";
      expect(await checkStatusRemote(rolloutApp(bare))).toMatchObject({
        ok: false,
        fix: expect.stringContaining("PROTOCOL_NODE_ID"),
      });
    } finally {
      delete process.env.PROTOCOL_NODE_ID;
    }
  });
});
