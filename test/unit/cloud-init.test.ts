import { describe, expect, test } from "bun:test";
import { renderBootstrap, renderUserData, shQuote, type UserDataOptions } from "../../src/lib/host/cloud-init.ts";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END OPENSSH PRIVATE KEY-----\n";
const base: UserDataOptions = { repo: "git@github.com:acme/shop.git", dir: "/srv/shop", downloadUrl: "https://dl.example/releases" };

describe("shQuote", () => {
  test.each([
    ["plain", "'plain'"],
    ["it's", "'it'\\''s'"],
    ["$(rm -rf /) `x` ;|&", "'$(rm -rf /) `x` ;|&'"],
  ])("%p", (word, quoted) => expect(shQuote(word)).toBe(quoted));
});

describe("renderBootstrap", () => {
  test("installs protocol from the release host, clones the app and its config repo, and starts it", () => {
    const script = renderBootstrap({ ...base, branch: "main", env: "production", configRepo: "git@github.com:acme/shop-config.git", version: "v0.4.0" });
    expect(script).toStartWith("#!/usr/bin/env bash\n");
    expect(script).toContain("set -euo pipefail\n");
    expect(script).toContain("curl -fsSL 'https://dl.example/releases/download/v0.4.0/install.sh' | PROTOCOL_DOWNLOAD_URL='https://dl.example/releases' PROTOCOL_VERSION='0.4.0' bash\n");
    expect(script).toContain("[ -d '/srv/shop/.git' ] || git clone --branch 'main' -- 'git@github.com:acme/shop.git' '/srv/shop'\n");
    expect(script).toContain("[ -d '/srv/shop-config/.git' ] || git clone -- 'git@github.com:acme/shop-config.git' '/srv/shop-config'\n");
    expect(script).toEndWith("cd '/srv/shop'\nprotocol start 'production'\n");
  });

  test("without a pinned version it takes the latest installer", () => {
    expect(renderBootstrap(base)).toContain("curl -fsSL 'https://dl.example/releases/latest/download/install.sh' | PROTOCOL_DOWNLOAD_URL='https://dl.example/releases' bash\n");
  });
});

describe("renderUserData", () => {
  test("writes the key (0600), an ssh block that trusts the host on first use, and the bootstrap script", () => {
    const userData = renderUserData({ ...base, deployKey: KEY });
    expect(userData).toStartWith("#cloud-config\n");
    expect(userData).toContain('  - path: /root/.ssh/protocol_deploy\n    owner: "root:root"\n    permissions: "0600"\n    content: |\n      -----BEGIN OPENSSH PRIVATE KEY-----\n      b3BlbnNzaC1rZXk=\n');
    expect(userData).toContain("      Host github.com\n        HostName github.com\n        User git\n        IdentityFile /root/.ssh/protocol_deploy\n        IdentitiesOnly yes\n        StrictHostKeyChecking accept-new\n");
    expect(userData).toContain('runcmd:\n  - ["/usr/local/sbin/protocol-bootstrap"]\n');
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
    [{ env: "prod;rm" }, "--env"],
    [{ version: "latest" }, "--protocol-version"],
    [{ deployKey: "ssh-ed25519 AAAA" }, "--deploy-key-file"],
  ] as [Partial<UserDataOptions>, string][])("rejects %o", (change, flag) => {
    expect(() => renderUserData({ ...base, ...change })).toThrow(flag);
  });
});
