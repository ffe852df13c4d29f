/**
 * Issue 13: deploy keys that work on GitHub and GitLab, against a real ssh git server on 127.0.0.1
 * (sshd + the git user; each key may reach one repo only, as deploy keys do). key:generate makes a
 * key per repo; the node then syncs, follows a push and clones its config repo — all over ssh,
 * each repo through its own key's alias.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigFixture } from "../helpers/config-fixture.ts";
import { eventually, git, sh } from "../helpers/fixture.ts";
import { describeNeeding } from "../helpers/needs.ts";
import { type SshGitServer, sshGitMissing, startSshGit } from "../helpers/ssh-git.ts";

let cf: ConfigFixture;
let server: SshGitServer;
let home: string;

/**
 * The operator's environment: its own HOME (~/.ssh, ~/.gitconfig). ssh reads the passwd entry's
 * home (/root here), not $HOME, so the test points it at this HOME's config and known_hosts.
 */
const env = () => ({
  HOME: home,
  GIT_CONFIG_GLOBAL: join(home, ".gitconfig"),
  GIT_SSH_COMMAND: `ssh -F ${join(home, ".ssh", "config")} -o UserKnownHostsFile=${join(home, ".ssh", "known_hosts")} -o BatchMode=yes`,
});
const cli = (args: string[]) => cf.cli(args, { env: env() });
/** The origin URL as git uses it with this HOME's rules (url.insteadOf applied). */
const urlSeen = async (dir: string) =>
  (await sh(["git", "-C", dir, "remote", "get-url", "origin"], { env: env() })).stdout.trim();

async function keyFor(name: string, repo: string): Promise<string> {
  const run = await cli(["key:generate", name, "--repo", server.url(repo), "--scan", "--json"]);
  expect(run.exitCode, run.stderr).toBe(0);
  const key = JSON.parse(run.stdout);
  expect(key.alias).toBe(`protocol-${name}`);
  return key.publicKey;
}

// sshd and the git user are machine set-up (.ci/run): skipped with the reason outside CI, failing under CI=true.
describeNeeding(sshGitMissing())("deploy keys per repo (real sshd, one key per repo)", () => {
  beforeEach(async () => {
    cf = await ConfigFixture.create({ clone: false });
    chmodSync(cf.fx.root, 0o755);
    server = await startSshGit(join(cf.fx.root, "sshd"));
    home = mkdtempSync(join(tmpdir(), "protocol-sshhome-"));
  });
  afterEach(async () => {
    await cf?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test("a key for the app and one for the config repo: start syncs, follows a push and clones the config, all over ssh", async () => {
    server.allow(await keyFor("shop", cf.fx.remote), cf.fx.remote);
    server.allow(await keyFor("shop-config", cf.configRemote), cf.configRemote);
    const appUrl = server.url(cf.fx.remote);
    const configUrl = server.url(cf.configRemote);
    // The app as the node has it: protocol.json names the config repo; both keep their real URLs,
    // and git goes through the aliases.
    await cf.fx.push({ "protocol.json": JSON.stringify({ configuration: { remote: configUrl } }) });
    await git(cf.node, "pull", "--quiet");
    await git(cf.node, "remote", "set-url", "origin", appUrl);
    const pushed = await cf.fx.push({ "app.txt": "v1\n" });

    const start = await cli(["start", "production", "--dir", cf.node, "--interval", "1", "--no-cron"]);
    expect(start.exitCode, start.stderr).toBe(0);
    expect(await cf.fx.head()).toBe(pushed);
    expect(await urlSeen(cf.config)).toBe(`ssh://git@protocol-shop-config${cf.configRemote}`);
    expect(readFileSync(join(cf.node, ".env"), "utf8")).toBe("SECRET=hunter2\n");

    const next = await cf.fx.push({ "app.txt": "v2\n" });
    expect(await urlSeen(cf.node)).toBe(`ssh://git@protocol-shop${cf.fx.remote}`);
    expect(await eventually(async () => (await cf.fx.head()) === next, 20_000)).toBe(true);

    const doctor = await cf.cli(["doctor", "--dir", cf.node, "--json"], {
      fakeDocker: true,
      env: { ...env(), FAKE_DOCKER_ROOT: cf.fx.root },
    });
    const checks = JSON.parse(doctor.stdout).checks as { name: string; ok: boolean; detail: string }[];
    expect(checks.find((c) => c.name === "remote")?.ok).toBe(true);
    expect(checks.find((c) => c.name === "remote (config)")?.ok).toBe(true);
    expect(checks.find((c) => c.name === "known_hosts")).toMatchObject({ ok: true });
    expect(checks.find((c) => c.name === "known_hosts")?.detail).toContain(`[127.0.0.1]:${server.port}`);
  }, 60_000);

  test("the server is a faithful deploy-key host: the app's key is refused for the config repo", async () => {
    server.allow(await keyFor("shop", cf.fx.remote), cf.fx.remote);
    const app = await sh(["git", "ls-remote", server.url(cf.fx.remote)], { env: env() });
    expect(app.exitCode, app.stderr).toBe(0);
    // What one key for both repos (the old cloud-init) did: the config clone fails.
    const key = join(home, ".ssh", "protocol_shop");
    const config = await sh(["git", "ls-remote", server.url(cf.configRemote)], {
      env: {
        ...env(),
        GIT_SSH_COMMAND: `ssh -F /dev/null -i ${key} -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${join(home, ".ssh", "known_hosts")}`,
      },
    });
    expect(config.exitCode).not.toBe(0);
    expect(config.stderr).toContain("Repository not found");
  });

  test("doctor names the fix when the config repo has no key of its own", async () => {
    server.allow(await keyFor("shop", cf.fx.remote), cf.fx.remote);
    await git(cf.fx.root, "clone", "--quiet", cf.configRemote, cf.config);
    await git(cf.config, "remote", "set-url", "origin", server.url(cf.configRemote));
    writeFileSync(join(cf.node, "protocol.json"), "{}");
    const doctor = await cf.cli(["doctor", "--dir", cf.node, "--json"], {
      fakeDocker: true,
      env: { ...env(), FAKE_DOCKER_ROOT: cf.fx.root },
    });
    const check = JSON.parse(doctor.stdout).checks.find((c: { name: string }) => c.name === "remote (config)");
    expect(check.ok).toBe(false);
    expect(check.fix).toContain("protocol key:generate");
    expect(check.fix).toContain("protocol key:generate shop-app-config --repo ssh://git@127.0.0.1:");
  });
});
