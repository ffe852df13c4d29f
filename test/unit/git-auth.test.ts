import { describe, expect, test } from "bun:test";
import { homedir } from "node:os";
import { join } from "node:path";
import { appPaths } from "../../src/lib/core/paths.ts";
import { gitContext, gitEnv } from "../../src/lib/git/auth.ts";
import { type App, parseProtocolJson } from "../../src/lib/node/app.ts";
import { redactUrl } from "../../src/lib/node/init.ts";

const DIR = "/srv/app";

function app(git: Record<string, unknown> = {}, dir = DIR): App {
  const config = parseProtocolJson(JSON.stringify({ git }), join(dir, "protocol.json"));
  return { dir, name: "app", configPath: join(dir, "protocol.json"), config, paths: appPaths(dir) };
}

function basic(username: string, password: string): string {
  return `Authorization: Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

/** The words sh makes of a command line, as git's GIT_SSH_COMMAND would be split. */
async function shellWords(line: string): Promise<string[]> {
  const child = Bun.spawn(["sh", "-c", 'eval "set -- $0"; printf "%s\\0" "$@"', line], { stdout: "pipe" });
  const out = await new Response(child.stdout).text();
  return out.split("\0").slice(0, -1);
}

describe("gitEnv", () => {
  test("gives nothing when no key and no credentials are set", () => {
    expect(gitEnv(app(), {})).toEqual({});
  });

  test("puts an absolute deploy key into GIT_SSH_COMMAND with IdentitiesOnly and BatchMode", () => {
    expect(gitEnv(app({ key: "/etc/protocol/deploy_key" }), {})).toEqual({
      GIT_SSH_COMMAND: "ssh -i '/etc/protocol/deploy_key' -o IdentitiesOnly=yes -o BatchMode=yes",
    });
  });

  test.each([
    ["~ to the home dir", "~/.ssh/deploy", join(homedir(), ".ssh/deploy")],
    ["a relative path against the app dir", "keys/deploy", "/srv/app/keys/deploy"],
    ["a path with spaces and a quote, keeping it one word", "/keys/it's mine", "/keys/it's mine"],
  ])("resolves %s", async (_name, key, expected) => {
    const env = gitEnv(app({ key }), {});
    expect(await shellWords(env.GIT_SSH_COMMAND ?? "")).toEqual([
      "ssh",
      "-i",
      expected,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "BatchMode=yes",
    ]);
  });

  test("turns protocol.json's username and password into a Basic http.extraHeader", () => {
    expect(gitEnv(app({ username: "deploy", password: "p@ss:word" }), {})).toEqual({
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: basic("deploy", "p@ss:word"),
    });
  });

  test.each([
    [
      "both from the environment",
      { PROTOCOL_GIT_USERNAME: "env-user", PROTOCOL_GIT_PASSWORD: "env-pass" },
      basic("env-user", "env-pass"),
    ],
    ["the username from the environment", { PROTOCOL_GIT_USERNAME: "env-user" }, basic("env-user", "json-pass")],
    ["the password from the environment", { PROTOCOL_GIT_PASSWORD: "env-pass" }, basic("json-user", "env-pass")],
    ["neither from the environment", {}, basic("json-user", "json-pass")],
    [
      "empty variables, which count as unset",
      { PROTOCOL_GIT_USERNAME: "", PROTOCOL_GIT_PASSWORD: "" },
      basic("json-user", "json-pass"),
    ],
  ])("lets PROTOCOL_GIT_USERNAME/PASSWORD override protocol.json: %s", (_name, env, expected) => {
    expect(gitEnv(app({ username: "json-user", password: "json-pass" }), env).GIT_CONFIG_VALUE_0).toBe(expected);
  });

  test("takes credentials from the environment alone when protocol.json has none", () => {
    expect(gitEnv(app(), { PROTOCOL_GIT_USERNAME: "u", PROTOCOL_GIT_PASSWORD: "p" }).GIT_CONFIG_VALUE_0).toBe(
      basic("u", "p"),
    );
  });

  test.each([
    ["only a username", { username: "u" }, {}],
    ["only a password", { password: "p" }, {}],
    ["only an env username", {}, { PROTOCOL_GIT_USERNAME: "u" }],
    ["an empty password", { username: "u", password: "" }, {}],
  ])("sets no header with %s", (_name, git, env) => {
    expect(gitEnv(app(git), env)).toEqual({});
  });

  test("sets both the key and the header when both are configured", () => {
    expect(Object.keys(gitEnv(app({ key: "/k", username: "u", password: "p" }), {})).sort()).toEqual([
      "GIT_CONFIG_COUNT",
      "GIT_CONFIG_KEY_0",
      "GIT_CONFIG_VALUE_0",
      "GIT_SSH_COMMAND",
    ]);
  });

  test("reads process.env by default", () => {
    const saved = { ...process.env };
    try {
      process.env.PROTOCOL_GIT_USERNAME = "proc-user";
      process.env.PROTOCOL_GIT_PASSWORD = "proc-pass";
      expect(gitEnv(app()).GIT_CONFIG_VALUE_0).toBe(basic("proc-user", "proc-pass"));
    } finally {
      delete process.env.PROTOCOL_GIT_USERNAME;
      delete process.env.PROTOCOL_GIT_PASSWORD;
      Object.assign(process.env, saved);
    }
  });

  test("gives git a header it reads back through GIT_CONFIG_COUNT", async () => {
    const env = gitEnv(app({ username: "u", password: "p" }), {});
    const child = Bun.spawn(["git", "config", "--get", "http.extraHeader"], {
      env: { ...process.env, ...env },
      stdout: "pipe",
    });
    expect((await new Response(child.stdout).text()).trim()).toBe(basic("u", "p"));
    expect(await child.exited).toBe(0);
  });

  test("gitContext carries the app dir and its env", () => {
    const a = app({ key: "/k" });
    expect(gitContext(a)).toEqual({
      dir: DIR,
      env: { GIT_SSH_COMMAND: "ssh -i '/k' -o IdentitiesOnly=yes -o BatchMode=yes" },
    });
  });
});

describe("redactUrl", () => {
  test.each([
    ["https://user:secret@github.com/acme/app.git", "https://github.com/acme/app.git"],
    ["https://token@github.com/acme/app.git", "https://github.com/acme/app.git"],
    ["ssh://git@example.com:2222/app.git", "ssh://example.com:2222/app.git"],
    ["https://github.com/acme/app.git", "https://github.com/acme/app.git"],
    ["https://github.com/acme/app@v1.git", "https://github.com/acme/app@v1.git"],
    ["git@github.com:acme/app.git", "git@github.com:acme/app.git"],
    ["/srv/git/app.git", "/srv/git/app.git"],
  ])("turns %s into %s", (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
