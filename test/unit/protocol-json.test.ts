import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseProtocolJson, resolveAppDir } from "../../src/lib/app/app.ts";
import { ConfigError, EXIT, PreconditionError } from "../../src/lib/core/errors.ts";

const PATH = "/srv/app/protocol.json";

function parse(value: unknown) {
  return parseProtocolJson(JSON.stringify(value), PATH);
}

function configError(text: string): ConfigError {
  try {
    parseProtocolJson(text, PATH);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("parseProtocolJson", () => {
  test("accepts every key of the original PHP tool", () => {
    const original = {
      name: "shop",
      git: { remote: "git@github.com:acme/shop.git", username: "deploy", password: "s3cret", key: "~/.ssh/deploy" },
      docker: { image: "acme/shop", username: "bot", password: "pw", local: "shop-local" },
      configuration: { local: "config", remote: "git@github.com:acme/shop-config.git" },
    };
    expect(parse(original)).toEqual(original);
  });

  test("accepts the new keys", () => {
    const config = parse({
      git: { branch: "release/2024", remotename: "upstream", interval: 30 },
      docker: { compose: ["a.yml", "b.yml"] },
    });
    expect(config.git).toEqual({ branch: "release/2024", remotename: "upstream", interval: 30 });
    expect(config.docker).toEqual({ compose: ["a.yml", "b.yml"] });
  });

  test("accepts a single compose file name", () => {
    expect(parse({ docker: { compose: "docker-compose.prod.yml" } }).docker?.compose).toBe("docker-compose.prod.yml");
  });

  test("gives empty git, docker and configuration groups for an empty file", () => {
    expect(parse({})).toEqual({ git: {}, docker: {}, configuration: {} });
  });

  test("gives each parse its own default groups, so changing one config does not leak into the next", () => {
    const first = parse({});
    first.git.interval = 99;
    expect(parse({}).git).toEqual({});
  });

  test("tolerates unknown keys at the top level and inside groups", () => {
    const config = parse({ name: "a", healthcheck: { url: "/up" }, git: { interval: 5, future: true } });
    expect(config.name).toBe("a");
    expect(config.git.interval).toBe(5);
  });

  test.each([
    ["git.interval", { git: { interval: 0 } }, "must be at least 1"],
    ["git.interval", { git: { interval: 86401 } }, "must be at most 86400"],
    ["git.interval", { git: { interval: "10" } }, "must be a number of seconds"],
    ["git.branch", { git: { branch: "-x" } }, "is not a valid branch name"],
    ["git.branch", { git: { branch: "a..b" } }, "is not a valid branch name"],
    ["git.remotename", { git: { remotename: "bad name" } }, "is not a valid remote name"],
    ["name", { name: "-app" }, "must be letters, digits"],
    ["name", { name: "my app" }, "must be letters, digits"],
    ["docker.compose", { docker: { compose: [] } }, "Invalid length"],
    ["docker.compose.1", { docker: { compose: ["a.yml", ""] } }, "must not be empty"],
    ["docker.compose", { docker: { compose: 3 } }, "must be a file name or a list of them"],
  ])("rejects a bad %s with a ConfigError (exit 3) naming the key: %j", (key, value, reason) => {
    const error = configError(JSON.stringify(value));
    expect(error.exitCode).toBe(EXIT.config);
    expect(error.exitCode).toBe(3);
    expect(error.message).toStartWith(`${PATH} is invalid: `);
    expect(error.message).toContain(`${key}: `);
    expect(error.message).toContain(reason);
  });

  test.each([
    ["git.branch", { git: { branch: "" } }],
    ["git.remote", { git: { remote: "" } }],
    ["git.key", { git: { key: "" } }],
    ["configuration.local", { configuration: { local: "" } }],
  ])("an empty %s is not set, as in the PHP tool's files (not an error)", (_key, value) => {
    const config = parseProtocolJson(JSON.stringify(value), PATH);
    expect(config.git).toEqual({});
    expect(config.configuration).toEqual({});
  });

  test("names every bad key in one message", () => {
    const error = configError(JSON.stringify({ name: "-x", git: { interval: 0 } }));
    expect(error.message).toContain("name: ");
    expect(error.message).toContain("git.interval: must be at least 1");
  });

  test.each([
    ["a group that is not an object", JSON.stringify({ git: "origin" }), "git"],
    ["a top level that is null", "null", "(top level)"],
    ["a top level that is a string", '"protocol"', "(top level)"],
    ["a top level that is a list", "[]", "(top level)"],
  ])("rejects %s, naming it", (_name, text, key) => {
    expect(configError(text).message).toContain(`${key}: `);
  });

  test.each([
    ["truncated JSON", '{"git": {'],
    ["a trailing comma", '{"name": "a",}'],
    ["an empty file", ""],
  ])("rejects %s with a ConfigError naming the file", (_name, text) => {
    const error = configError(text);
    expect(error.exitCode).toBe(EXIT.config);
    expect(error.message).toStartWith(`${PATH} is not valid JSON: `);
    expect(error.hint).toContain("jq");
  });
});

describe("resolveAppDir", () => {
  function withTree(run: (root: string) => void): void {
    const root = realpathSync(mkdtempSync(join(tmpdir(), "protocol-appdir-")));
    try {
      run(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }

  test.each([
    ["protocol.json", (app: string) => writeFileSync(join(app, "protocol.json"), "{}")],
    [".git", (app: string) => mkdirSync(join(app, ".git"))],
  ])("walks up from a subdir to the dir holding %s", (_marker, mark) => {
    withTree((root) => {
      const app = join(root, "app");
      const deep = join(app, "src", "lib");
      mkdirSync(deep, { recursive: true });
      mark(app);
      expect(resolveAppDir(undefined, deep)).toBe(app);
      expect(resolveAppDir(undefined, app)).toBe(app);
    });
  });

  test("stops at the nearest dir holding protocol.json, not an outer repo", () => {
    withTree((root) => {
      mkdirSync(join(root, ".git"));
      const inner = join(root, "services", "api");
      mkdirSync(join(inner, "src"), { recursive: true });
      writeFileSync(join(inner, "protocol.json"), "{}");
      expect(resolveAppDir(undefined, join(inner, "src"))).toBe(inner);
    });
  });

  test("throws a PreconditionError when no dir up to / holds either", () => {
    withTree((root) => {
      expect(() => resolveAppDir(undefined, root)).toThrow(PreconditionError);
      expect(() => resolveAppDir(undefined, root)).toThrow(
        `no app found: neither protocol.json nor .git in ${root} or above`,
      );
    });
  });

  test("takes --dir relative to the current dir without walking up", () => {
    withTree((root) => {
      mkdirSync(join(root, ".git"));
      mkdirSync(join(root, "plain"));
      expect(resolveAppDir("plain", root)).toBe(join(root, "plain"));
      expect(resolveAppDir(join(root, "plain"), "/")).toBe(join(root, "plain"));
    });
  });

  test.each([
    ["does not exist", (root: string) => join(root, "missing")],
    [
      "is a file",
      (root: string) => {
        writeFileSync(join(root, "file"), "");
        return join(root, "file");
      },
    ],
  ])("throws a PreconditionError (exit 4) naming a --dir that %s", (_name, make) => {
    withTree((root) => {
      const dir = make(root);
      let caught: unknown;
      try {
        resolveAppDir(dir, root);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PreconditionError);
      expect((caught as PreconditionError).exitCode).toBe(EXIT.precondition);
      expect((caught as PreconditionError).message).toBe(`app directory ${dir} does not exist`);
    });
  });
});
