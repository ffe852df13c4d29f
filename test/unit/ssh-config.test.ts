import { describe, expect, test } from "bun:test";
import { parseSshHost, type SshBlock, withSshBlock } from "../../src/lib/host/ssh-config.ts";

const block: SshBlock = {
  name: "app",
  host: "github.com",
  port: null,
  user: null,
  identityFile: "/root/.ssh/protocol_app",
};
const rendered = [
  "# BEGIN protocol key app (managed by protocol key:generate)",
  "Host github.com",
  "  HostName github.com",
  "  IdentityFile /root/.ssh/protocol_app",
  "  IdentitiesOnly yes",
  "# END protocol key app",
].join("\n");

describe("parseSshHost", () => {
  test.each([
    ["git@github.com:owner/repo.git", { host: "github.com", port: null, user: "git" }],
    ["github.com:owner/repo.git", { host: "github.com", port: null, user: null }],
    ["ssh://git@git.example.com:2222/srv/app.git", { host: "git.example.com", port: 2222, user: "git" }],
    ["ssh://git.example.com/app.git", { host: "git.example.com", port: null, user: null }],
    ["gitlab.example.com", { host: "gitlab.example.com", port: null, user: null }],
    ["https://github.com/owner/repo.git", null],
    ["/srv/git/app.git", null],
    ["file:///srv/git/app.git", null],
    ["bad host", null],
    ["ssh://git@host:99999/x", null],
    ["ssh://evil\nProxyCommand touch /tmp/pwned@host/x", null],
    ["git\tx@host:o/r.git", null],
    ["-oProxyCommand=x@host:o/r.git", null],
  ] as const)("%s", (remote, expected) => {
    expect(parseSshHost(remote)).toEqual(expected);
  });
});

describe("withSshBlock", () => {
  test.each([
    ["an empty file", "", `${rendered}\n`],
    [
      "a file with globals first (appended, so they stay global)",
      "ServerAliveInterval 30\nHost x\n  User y",
      `ServerAliveInterval 30\nHost x\n  User y\n\n${rendered}\n`,
    ],
    ["a file ending in a blank line", "Host x\n\n", `Host x\n\n${rendered}\n`],
    [
      "a file with an old block (replaced in place)",
      `Host a\n${rendered.replace("protocol_app", "old")}\nHost b\n`,
      `Host a\n${rendered}\nHost b\n`,
    ],
  ])("into %s", (_, text, expected) => {
    expect(withSshBlock(text, block)).toBe(expected);
    expect(withSshBlock(expected, block)).toBe(expected);
  });

  test("keeps other keys' blocks, and renders port, user, quoting and accept-new", () => {
    const other = withSshBlock("", { ...block, name: "other", host: "h.example" });
    const both = withSshBlock(other, {
      ...block,
      port: 2222,
      user: "git",
      identityFile: "/home/a b/.ssh/k",
      acceptNewHostKey: true,
    });
    expect(both).toStartWith(other);
    expect(both).toContain(
      '  Port 2222\n  User git\n  IdentityFile "/home/a b/.ssh/k"\n  IdentitiesOnly yes\n  StrictHostKeyChecking accept-new\n',
    );
  });
});

describe("renderSshBlock refuses what would start an option of its own", () => {
  test.each([
    ["a newline", "/root/.ssh/k\nProxyCommand touch /tmp/pwned"],
    ["a CR", "/root/.ssh/k\r"],
    ["a double quote", '/root/.ssh/k" ProxyCommand "x'],
  ])("a key path with %s", (_name, identityFile) => {
    expect(() => withSshBlock("", { ...block, identityFile })).toThrow("the key path");
  });
});
