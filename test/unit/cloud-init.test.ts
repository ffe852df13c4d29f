import { describe, expect, test } from "bun:test";
import {
  renderBootstrap,
  renderUserData,
  type UserDataOptions,
  validateUserDataOptions,
} from "../../src/lib/host/cloud-init.ts";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END OPENSSH PRIVATE KEY-----\n";
const CONFIG_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nY29uZmlnLWtleQ==\n-----END OPENSSH PRIVATE KEY-----\n";
const base: UserDataOptions = {
  repo: "git@github.com:acme/shop.git",
  dir: "/srv/shop",
  downloadUrl: "https://dl.example/releases",
};

describe("renderBootstrap", () => {
  test("installs protocol from the release host, clones the app and its config repo, and starts it", () => {
    const script = renderBootstrap({
      ...base,
      branch: "main",
      env: "production",
      configRepo: "git@github.com:acme/shop-config.git",
      version: "v0.4.0",
    });
    expect(script).toStartWith("#!/usr/bin/env bash\n");
    expect(script).toContain("set -euo pipefail\n");
    expect(script).toContain(
      "curl -fsSL 'https://dl.example/releases/download/v0.4.0/install.sh' | PROTOCOL_DOWNLOAD_URL='https://dl.example/releases' PROTOCOL_VERSION='0.4.0' bash\n",
    );
    expect(script).toContain(
      "[ -d '/srv/shop/.git' ] || git clone --branch 'main' -- 'git@github.com:acme/shop.git' '/srv/shop'\n",
    );
    // The config repo on the environment's branch, whatever its remote's HEAD says.
    expect(script).toContain(
      "[ -d '/srv/shop-config/.git' ] || git clone --branch 'production' -- 'git@github.com:acme/shop-config.git' '/srv/shop-config'\n",
    );
    expect(script).toContain("systemctl enable --now cron");
    expect(script).toEndWith("cd '/srv/shop'\nprotocol start 'production'\n");
  });

  test("a mirror's release key (PROTOCOL_MINISIGN_PUBKEY) goes to install.sh; a bad one is refused", () => {
    expect(renderBootstrap({ ...base, minisignPublicKey: "RWQabc+/=" })).toContain(
      "PROTOCOL_DOWNLOAD_URL='https://dl.example/releases' PROTOCOL_MINISIGN_PUBKEY='RWQabc+/=' bash\n",
    );
    expect(() => validateUserDataOptions({ ...base, minisignPublicKey: "x'; rm -rf /" })).toThrow(
      "PROTOCOL_MINISIGN_PUBKEY",
    );
  });

  test("without a pinned version it takes the latest installer", () => {
    expect(renderBootstrap(base)).toContain(
      "curl -fsSL 'https://dl.example/releases/latest/download/install.sh' | PROTOCOL_DOWNLOAD_URL='https://dl.example/releases' bash\n",
    );
  });
});

describe("renderUserData", () => {
  test("writes each repo's key (0600), an alias block per key, git's rule per repo, and the bootstrap script", () => {
    const options = {
      ...base,
      configRepo: "git@github.com:acme/shop-config.git",
      deployKey: KEY,
      configDeployKey: CONFIG_KEY,
    };
    const userData = renderUserData(options);
    expect(userData).toStartWith("#cloud-config\n");
    const document = Bun.YAML.parse(userData) as {
      packages: string[];
      write_files: Record<string, unknown>[];
      runcmd: string[][];
    };
    expect(document.packages).toContain("cron");
    const [appKey, configKey, ssh, bootstrap] = document.write_files;
    expect(appKey).toEqual({ path: "/root/.ssh/protocol_app", owner: "root:root", permissions: "0600", content: KEY });
    expect(configKey).toEqual({
      path: "/root/.ssh/protocol_config",
      owner: "root:root",
      permissions: "0600",
      content: CONFIG_KEY,
    });
    expect(ssh).toMatchObject({ path: "/root/.ssh/config", permissions: "0600", append: true });
    expect(ssh!.content).toContain(
      "Host protocol-app\n  HostName github.com\n  User git\n  IdentityFile /root/.ssh/protocol_app\n  IdentitiesOnly yes\n  StrictHostKeyChecking accept-new\n",
    );
    expect(ssh!.content).toContain(
      "Host protocol-config\n  HostName github.com\n  User git\n  IdentityFile /root/.ssh/protocol_config\n",
    );
    expect(ssh!.content).not.toContain("Host github.com");
    const script = renderBootstrap(options);
    expect(script).toContain(
      "git config --global --replace-all 'url.git@protocol-app:acme/shop.git.insteadOf' 'git@github.com:acme/shop.git'\n",
    );
    expect(script).toContain(
      "git config --global --replace-all 'url.git@protocol-config:acme/shop-config.git.insteadOf' 'git@github.com:acme/shop-config.git'\n",
    );
    expect(bootstrap).toEqual({
      path: "/usr/local/sbin/protocol-bootstrap",
      owner: "root:root",
      permissions: "0700",
      content: script,
    });
    expect(document.runcmd).toEqual([["/usr/local/sbin/protocol-bootstrap"]]);
  });

  test("a repo without a key of its own gets no alias: one key never serves two repos", () => {
    const userData = renderUserData({ ...base, configRepo: "git@github.com:acme/shop-config.git", deployKey: KEY });
    expect(userData).toContain("Host protocol-app");
    expect(userData).not.toContain("protocol-config");
  });

  test("a value with YAML's own syntax in it stays a plain value", () => {
    const dir = "/srv/shop: {x: 1} # - [a]";
    const document = Bun.YAML.parse(renderUserData({ ...base, dir })) as { write_files: { content: string }[] };
    expect(document.write_files.at(-1)!.content).toContain(`cd '${dir}'\n`);
  });

  test("an https repo needs no key and gets no ssh block", () => {
    const userData = renderUserData({ ...base, repo: "https://git.example.com/shop.git" });
    expect(userData).not.toContain("/root/.ssh");
  });

  test("credentials in the repo URL stay out of the header comment", () => {
    const userData = renderUserData({ ...base, repo: "https://deploy:tok@git.example.com/shop.git" });
    expect(userData.split("\n")[1]).not.toContain("tok");
  });

  test.each([
    [{ dir: "srv/app" }, "--dir"],
    [{ dir: "/" }, "--dir"],
    [{ repo: "-oProxyCommand=x" }, "--repo"],
    [{ repo: "a\nb" }, "--repo"],
    [{ branch: "--upload-pack=x" }, "--branch"],
    [{ branch: "a:b" }, "--branch"],
    [{ branch: "x.lock" }, "--branch"],
    [{ dir: "/srv/a\rb" }, "--dir"],
    [{ configRepo: "x\u0000y" }, "--config-repo"],
    [{ env: "prod;rm" }, "--env"],
    [{ version: "latest" }, "--protocol-version"],
    [{ deployKey: "ssh-ed25519 AAAA" }, "--deploy-key-file"],
    [{ configRepo: "git@h:c.git", configDeployKey: "ssh-ed25519 AAAA" }, "--config-deploy-key-file"],
    [{ configDeployKey: KEY }, "--config-deploy-key-file needs --config-repo"],
  ] as [Partial<UserDataOptions>, string][])("rejects %o", (change, flag) => {
    expect(() => renderUserData({ ...base, ...change })).toThrow(flag);
  });
});
