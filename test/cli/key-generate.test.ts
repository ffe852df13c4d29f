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
import { CLI, sh } from "../helpers/fixture.ts";

let home: string;
let ssh: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "protocol-keyhome-"));
  ssh = join(home, ".ssh");
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const keygen = (args: string[]) => sh([process.execPath, CLI, "key:generate", ...args], { env: { HOME: home } });
const config = () => readFileSync(join(ssh, "config"), "utf8");

describe("key:generate (temp HOME)", () => {
  test("writes an ed25519 key (0600), an ssh config block for the host, and prints the public key", async () => {
    const run = await keygen(["app", "--host", "git@gitlab.example.com:team/app.git"]);
    expect(run.exitCode).toBe(0);
    const key = join(ssh, "protocol_app");
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(run.stdout).toBe(readFileSync(`${key}.pub`, "utf8"));
    expect(run.stdout).toStartWith("ssh-ed25519 ");
    expect(config()).toContain(
      `Host gitlab.example.com\n  HostName gitlab.example.com\n  User git\n  IdentityFile ${key}\n  IdentitiesOnly yes\n`,
    );
    // ssh itself resolves the host to the key.
    const resolved = await sh(["ssh", "-G", "-F", join(ssh, "config"), "gitlab.example.com"]);
    expect(resolved.stdout).toContain(`identityfile ${key}`);
    expect(resolved.stdout).toContain("identitiesonly yes");
  });

  test("refuses to overwrite an existing key without --force; --force keeps a backup and the same ssh config", async () => {
    mkdirSync(ssh, { mode: 0o700 });
    writeFileSync(join(ssh, "config"), "ServerAliveInterval 30\n\nHost other\n  User me\n");
    expect((await keygen(["--json"])).exitCode).toBe(0);
    const once = config();
    const firstKey = readFileSync(join(ssh, "protocol_deploy"), "utf8");

    const refused = await keygen([]);
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toContain("--force");
    expect(readFileSync(join(ssh, "protocol_deploy"), "utf8")).toBe(firstKey);

    const forced = await keygen(["--force", "--json"]);
    expect(forced.exitCode).toBe(0);
    const result = JSON.parse(forced.stdout);
    expect(result.sshConfig.changed).toBe(false);
    expect(config()).toBe(once);
    expect(once).toStartWith("ServerAliveInterval 30\n\nHost other\n  User me\n\n# BEGIN protocol key deploy");
    expect(result.replaced).toHaveLength(2);
    expect(readFileSync(result.replaced[0], "utf8")).toBe(firstKey);
    expect(readFileSync(join(ssh, "protocol_deploy"), "utf8")).not.toBe(firstKey);
    // One backup of the config from the first run (it had user content), none from the second.
    expect(readdirSync(ssh).filter((f) => f.startsWith("config.bak-"))).toHaveLength(1);
  });

  test("an https URL is refused: it needs no deploy key", async () => {
    const run = await keygen(["--host", "https://github.com/o/r.git"]);
    expect(run.exitCode).toBe(2);
    expect(existsSync(join(ssh, "protocol_deploy"))).toBe(false);
  });
});
