import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliArgv, sh } from "../helpers/fixture.ts";

let home: string;
let ssh: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "protocol-keyhome-"));
  ssh = join(home, ".ssh");
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

// The preload points GIT_CONFIG_GLOBAL at one file for the whole run: each test gets its own here.
const env = () => ({ HOME: home, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: join(home, ".gitconfig") });
const keygen = (args: string[], cwd?: string) =>
  sh([...cliArgv(), "key:generate", ...args], { env: env(), cwd: cwd ?? home });
const config = () => readFileSync(join(ssh, "config"), "utf8");
/** What git makes of a URL for this HOME (url.insteadOf applied), through a repo whose origin is it. */
async function gitSees(url: string): Promise<string> {
  const repo = mkdtempSync(join(home, "repo-"));
  await sh(["git", "init", "--quiet", repo], { env: env() });
  await sh(["git", "-C", repo, "remote", "add", "origin", url], { env: env() });
  return (await sh(["git", "-C", repo, "remote", "get-url", "origin"], { env: env() })).stdout.trim();
}
const sshResolves = async (alias: string) =>
  (await sh(["ssh", "-G", "-F", join(ssh, "config"), alias], { env: env() })).stdout;

const APP = "git@gitlab.example.com:team/app.git";
const CONFIG = "git@gitlab.example.com:team/app-config.git";

describe("key:generate (temp HOME)", () => {
  test("writes an ed25519 key (0600), an alias block for the repo's host, git's rule for the repo, and prints the public key", async () => {
    const run = await keygen(["app", "--repo", APP]);
    expect(run.exitCode, run.stderr).toBe(0);
    const key = join(ssh, "protocol_app");
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(run.stdout).toBe(readFileSync(`${key}.pub`, "utf8"));
    expect(run.stdout).toStartWith("ssh-ed25519 ");
    expect(config()).toContain(
      `Host protocol-app\n  HostName gitlab.example.com\n  User git\n  IdentityFile ${key}\n  IdentitiesOnly yes\n`,
    );
    const resolved = await sshResolves("protocol-app");
    expect(resolved).toContain("hostname gitlab.example.com");
    expect(resolved).toContain(`identityfile ${key}`);
    expect(await gitSees(APP)).toBe("git@protocol-app:team/app.git");
  });

  test("two keys for two repos on one host never shadow each other", async () => {
    expect((await keygen(["app", "--repo", APP])).exitCode).toBe(0);
    expect((await keygen(["app-config", "--repo", CONFIG])).exitCode).toBe(0);
    expect(await gitSees(APP)).toBe("git@protocol-app:team/app.git");
    expect(await gitSees(CONFIG)).toBe("git@protocol-app-config:team/app-config.git");
    expect(await sshResolves("protocol-app")).toContain(`identityfile ${join(ssh, "protocol_app")}\n`);
    expect(await sshResolves("protocol-app-config")).toContain(`identityfile ${join(ssh, "protocol_app-config")}\n`);
    // The real host name is no alias of either key: nothing is offered for it by default.
    expect(config()).not.toContain("Host gitlab.example.com");
  });

  test("is safe to run twice: the key is kept, the block and the rule are not repeated", async () => {
    mkdirSync(ssh, { mode: 0o700 });
    writeFileSync(join(ssh, "config"), "ServerAliveInterval 30\n\nHost other\n  User me\n");
    expect((await keygen(["app", "--repo", APP])).exitCode).toBe(0);
    const once = { config: config(), key: readFileSync(join(ssh, "protocol_app"), "utf8") };
    const gitconfig = readFileSync(join(home, ".gitconfig"), "utf8");
    const again = await keygen(["app", "--repo", APP, "--json"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      created: false,
      insteadOfChanged: false,
      sshConfig: { changed: false },
    });
    expect(config()).toBe(once.config);
    expect(readFileSync(join(ssh, "protocol_app"), "utf8")).toBe(once.key);
    expect(readFileSync(join(home, ".gitconfig"), "utf8")).toBe(gitconfig);
    expect(once.config).toStartWith("ServerAliveInterval 30\n\nHost other\n  User me\n\n# BEGIN protocol key app");
    expect(readdirSync(ssh).filter((f) => f.startsWith("config.bak-"))).toHaveLength(1);
  });

  test("--force makes a new key and keeps the old one as a backup", async () => {
    expect((await keygen(["app", "--repo", APP])).exitCode).toBe(0);
    const first = readFileSync(join(ssh, "protocol_app"), "utf8");
    const forced = await keygen(["app", "--repo", APP, "--force", "--json"]);
    expect(forced.exitCode).toBe(0);
    const result = JSON.parse(forced.stdout);
    expect(result.created).toBe(true);
    expect(result.replaced).toHaveLength(2);
    expect(readFileSync(result.replaced[0], "utf8")).toBe(first);
    expect(readFileSync(join(ssh, "protocol_app"), "utf8")).not.toBe(first);
  });

  test("inside an app, the key is for the app's remote and named after the app", async () => {
    const app = join(home, "shop");
    await sh(["git", "init", "--quiet", app], { env: env() });
    await sh(["git", "-C", app, "remote", "add", "origin", "ssh://git@git.example.com:2222/acme/shop.git"], {
      env: env(),
    });
    const run = await keygen([], app);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(config()).toContain("Host protocol-shop\n  HostName git.example.com\n  Port 2222\n  User git\n");
    expect(await gitSees("ssh://git@git.example.com:2222/acme/shop.git")).toBe("ssh://git@protocol-shop/acme/shop.git");
  });

  test("no silent default: outside an app and without --repo it asks which repo (exit 2)", async () => {
    const run = await keygen([]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("which repo is the key for?");
    expect(existsSync(ssh)).toBe(false);
  });

  test("a --repo with a newline in it is refused in one line (exit 2), and nothing is written", async () => {
    for (const repo of ["git@github.com:o/r.git\nHost *\n  ProxyCommand evil", "git@github.com:o/r.git\r"]) {
      const run = await keygen(["app", "--repo", repo]);
      expect(run.exitCode, run.stderr).toBe(2);
      expect(run.stderr).toContain("contains a control character");
      expect(run.stderr.trim().split("\n")).toHaveLength(2);
      expect(existsSync(join(ssh, "protocol_app"))).toBe(false);
      expect(existsSync(join(ssh, "config"))).toBe(false);
    }
  });

  test("an https URL is refused: it needs no deploy key", async () => {
    const run = await keygen(["app", "--repo", "https://github.com/o/r.git"]);
    expect(run.exitCode).toBe(2);
    expect(existsSync(join(ssh, "protocol_app"))).toBe(false);
  });
});
