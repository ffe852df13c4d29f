import { describe, expect, test } from "bun:test";
import { homedir } from "node:os";
import { join } from "node:path";
import { type App, parseProtocolJson } from "../../src/lib/app/app.ts";
import { appPaths } from "../../src/lib/core/paths.ts";
import { credentialInUrl, redactUrl } from "../../src/lib/core/validate.ts";
import { configGitAuth, gitAuth, gitContext } from "../../src/lib/git/auth.ts";
import { httpAuthEnv } from "../../src/lib/git/http-auth.ts";

const DIR = "/srv/app";

function app(git: Record<string, unknown> = {}, dir = DIR): App {
  const config = parseProtocolJson(JSON.stringify({ git }), join(dir, "protocol.json"));
  return { dir, name: "app", configPath: join(dir, "protocol.json"), config, paths: appPaths(dir), project: "app" };
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

const URL_ = "https://git.example.com/acme/app.git";

/** The Authorization header gitAuth's credentials become for the app remote's URL. */
function header(a: App, env: Record<string, string | undefined>): string | undefined {
  return httpAuthEnv(URL_, gitAuth(a, env).http).GIT_CONFIG_VALUE_0;
}

describe("gitAuth", () => {
  test("gives nothing when no key and no credentials are set", () => {
    expect(gitAuth(app(), {})).toEqual({ env: {}, http: undefined });
  });

  test("puts an absolute deploy key into GIT_SSH_COMMAND with IdentitiesOnly and BatchMode", () => {
    expect(gitAuth(app({ key: "/etc/protocol/deploy_key" }), {}).env).toEqual({
      GIT_SSH_COMMAND: "ssh -i '/etc/protocol/deploy_key' -o IdentitiesOnly=yes -o BatchMode=yes",
    });
  });

  test.each([
    ["~ to the home dir", "~/.ssh/deploy", join(homedir(), ".ssh/deploy")],
    ["a relative path against the app dir", "keys/deploy", "/srv/app/keys/deploy"],
    ["a path with spaces and a quote, keeping it one word", "/keys/it's mine", "/keys/it's mine"],
  ])("resolves %s", async (_name, key, expected) => {
    const env = gitAuth(app({ key }), {}).env ?? {};
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

  test("keeps protocol.json's username and password aside, out of the env every git gets", () => {
    const auth = gitAuth(app({ username: "deploy", password: "p@ss:word" }), {});
    expect(auth.http).toEqual({ username: "deploy", password: "p@ss:word" });
    expect(auth.env).toEqual({});
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
    expect(header(app({ username: "json-user", password: "json-pass" }), env)).toBe(expected);
  });

  test("takes credentials from the environment alone when protocol.json has none", () => {
    expect(header(app(), { PROTOCOL_GIT_USERNAME: "u", PROTOCOL_GIT_PASSWORD: "p" })).toBe(basic("u", "p"));
  });

  test.each([
    ["only a username", { username: "u" }, {}],
    ["only a password", { password: "p" }, {}],
    ["only an env username", {}, { PROTOCOL_GIT_USERNAME: "u" }],
    ["an empty password", { username: "u", password: "" }, {}],
  ])("sets no credentials with %s", (_name, git, env) => {
    expect(gitAuth(app(git), env).http).toBeUndefined();
  });

  test("reads process.env by default", () => {
    const saved = { ...process.env };
    try {
      process.env.PROTOCOL_GIT_USERNAME = "proc-user";
      process.env.PROTOCOL_GIT_PASSWORD = "proc-pass";
      expect(gitAuth(app()).http).toEqual({ username: "proc-user", password: "proc-pass" });
    } finally {
      delete process.env.PROTOCOL_GIT_USERNAME;
      delete process.env.PROTOCOL_GIT_PASSWORD;
      Object.assign(process.env, saved);
    }
  });

  test("gitContext carries the app dir, its env and its credentials", () => {
    const a = app({ key: "/k", username: "u", password: "p" });
    expect(gitContext(a)).toEqual({
      dir: DIR,
      env: { GIT_SSH_COMMAND: "ssh -i '/k' -o IdentitiesOnly=yes -o BatchMode=yes" },
      http: { username: "u", password: "p" },
    });
  });
});

describe("configGitAuth", () => {
  test("never carries the app's username and password", () => {
    expect(configGitAuth({ PROTOCOL_GIT_USERNAME: "u", PROTOCOL_GIT_PASSWORD: "p" }).http).toBeUndefined();
  });

  test("takes PROTOCOL_CONFIG_GIT_USERNAME/PASSWORD, and never the app's deploy key (a key belongs to one repo)", () => {
    const auth = configGitAuth({
      PROTOCOL_CONFIG_GIT_USERNAME: "cu",
      PROTOCOL_CONFIG_GIT_PASSWORD: "cp",
    });
    expect(auth).toEqual({ env: {}, http: { username: "cu", password: "cp" } });
  });
});

describe("httpAuthEnv", () => {
  test("scopes the header to the one URL, through GIT_CONFIG_COUNT", () => {
    expect(httpAuthEnv(URL_, { username: "deploy", password: "p@ss:word" })).toEqual({
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: `http.${URL_}.extraHeader`,
      GIT_CONFIG_VALUE_0: basic("deploy", "p@ss:word"),
    });
  });

  test.each([
    ["an ssh URL", "ssh://git@example.com/app.git"],
    ["an scp-like address", "git@example.com:acme/app.git"],
    ["a path", "/srv/git/app.git"],
    ["git://", "git://127.0.0.1/app.git"],
  ])("gives nothing for %s", (_name, url) => {
    expect(httpAuthEnv(url, { username: "u", password: "p" })).toEqual({});
  });

  test.each([
    ["the URL itself", URL_, basic("u", "p")],
    ["a path under it", `${URL_}/info/refs`, basic("u", "p")],
    ["another repo on the same host", "https://git.example.com/acme/config.git", ""],
    ["another host", "https://evil.example.net/acme/app.git", ""],
  ])("is a header git applies to %s and nowhere else", async (_name, url, expected) => {
    const env = httpAuthEnv(URL_, { username: "u", password: "p" });
    const child = Bun.spawn(["git", "config", "--get-urlmatch", "http.extraHeader", url], {
      env: { ...process.env, ...env },
      stdout: "pipe",
    });
    expect((await new Response(child.stdout).text()).trim()).toBe(expected);
    await child.exited;
  });
});

describe("redactUrl", () => {
  test.each([
    ["https://user:secret@github.com/acme/app.git", "https://github.com/acme/app.git"],
    ["https://token@github.com/acme/app.git", "https://github.com/acme/app.git"],
    ["https://user:p@ss@github.com/acme/app.git", "https://github.com/acme/app.git"],
    ["ssh://git@example.com:2222/app.git", "ssh://example.com:2222/app.git"],
    ["https://github.com/acme/app.git", "https://github.com/acme/app.git"],
    ["https://github.com/acme/app@v1.git", "https://github.com/acme/app@v1.git"],
    ["git@github.com:acme/app.git", "git@github.com:acme/app.git"],
    ["/srv/git/app.git", "/srv/git/app.git"],
  ])("turns %s into %s", (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});

describe("credentialInUrl", () => {
  test.each([
    ["https://user:secret@github.com/acme/app.git", true],
    ["https://ghp_0123456789abcdef@github.com/acme/app.git", true],
    ["http://oauth2:glpat-xyz@gitlab.example.com/app.git", true],
    ["ssh://git:secret@example.com/app.git", true],
    ["ssh://git@example.com:2222/app.git", false],
    ["git@github.com:acme/app.git", false],
    ["https://github.com/acme/app.git", false],
    ["https://github.com/acme/app@v1.git", false],
    ["/srv/git/app.git", false],
  ])("%s → %p", (url, expected) => {
    expect(credentialInUrl(url)).toBe(expected);
  });
});
