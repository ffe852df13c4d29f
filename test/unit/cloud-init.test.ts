import { describe, expect, test } from "bun:test";
import { renderBootstrap, renderUserData, type UserDataOptions } from "../../src/lib/host/cloud-init.ts";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END OPENSSH PRIVATE KEY-----\n";
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
    expect(script).toContain(
      "[ -d '/srv/shop-config/.git' ] || git clone -- 'git@github.com:acme/shop-config.git' '/srv/shop-config'\n",
    );
    expect(script).toEndWith("cd '/srv/shop'\nprotocol start 'production'\n");
  });

  test("without a pinned version it takes the latest installer", () => {
    expect(renderBootstrap(base)).toContain(
      "curl -fsSL 'https://dl.example/releases/latest/download/install.sh' | PROTOCOL_DOWNLOAD_URL='https://dl.example/releases' bash\n",
    );
  });
});

describe("renderUserData", () => {
  test("writes the key (0600), an ssh block that trusts the host on first use, and the bootstrap script", () => {
    const userData = renderUserData({ ...base, deployKey: KEY });
    expect(userData).toStartWith("#cloud-config\n");
    const document = Bun.YAML.parse(userData) as { write_files: Record<string, unknown>[]; runcmd: string[][] };
    const [key, ssh, bootstrap] = document.write_files;
    expect(key).toEqual({ path: "/root/.ssh/protocol_deploy", owner: "root:root", permissions: "0600", content: KEY });
    expect(ssh).toMatchObject({ path: "/root/.ssh/config", permissions: "0600", append: true });
    expect(ssh!.content).toContain(
      "Host github.com\n  HostName github.com\n  User git\n  IdentityFile /root/.ssh/protocol_deploy\n  IdentitiesOnly yes\n  StrictHostKeyChecking accept-new\n",
    );
    expect(bootstrap).toEqual({
      path: "/usr/local/sbin/protocol-bootstrap",
      owner: "root:root",
      permissions: "0700",
      content: renderBootstrap({ ...base, deployKey: KEY }),
    });
    expect(document.runcmd).toEqual([["/usr/local/sbin/protocol-bootstrap"]]);
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
  ] as [Partial<UserDataOptions>, string][])("rejects %o", (change, flag) => {
    expect(() => renderUserData({ ...base, ...change })).toThrow(flag);
  });
});
