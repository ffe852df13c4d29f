/**
 * Issue 13: every protocol.json the original PHP tool writes is read. Empty strings in its keys
 * mean "not set"; keys its later versions added are accepted with one warning naming them.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseProtocolJson } from "../../src/lib/app/app.ts";
import { normalizeOriginal, unknownKeys } from "../../src/lib/schema/protocol-json.ts";

const fixture = (name: string) => readFileSync(join(import.meta.dir, "..", "fixtures", "original", name), "utf8");

describe("the original tool's protocol.json", () => {
  test("its README sample parses: empty credentials, key, local dirs are not set", () => {
    const config = parseProtocolJson(fixture("readme-sample.json"), "protocol.json");
    expect(config.git).toEqual({ remote: "git@github.com:acme/shop.git", remotename: "origin", branch: "main" });
    expect(config.docker).toEqual({ image: "acme/shop-web:latest" });
    expect(config.configuration).toEqual({});
  });

  test("its latest release's full schema parses; what protocol does not use is named", () => {
    const text = fixture("latest-release.json");
    const config = parseProtocolJson(text, "protocol.json");
    expect(config).toMatchObject({
      name: "shop",
      docker: { image: "acme/shop-web:latest", local: "../docker-source/" },
      configuration: { local: "../shop-config", remote: "git@github.com:acme/shop-config.git" },
    });
    expect(unknownKeys(normalizeOriginal(JSON.parse(text)))).toEqual([
      "configuration.environments",
      "deployment",
      "docker.container_name",
      "project_type",
    ]);
  });

  test("empty strings still count for keys that are not the original's (a new key must be valid)", () => {
    expect(() => parseProtocolJson(JSON.stringify({ docker: { service: "" } }), "protocol.json")).toThrow(
      "docker.service: must not be empty",
    );
  });

  test.each(["5", '"shop"', "null", "true"])("a top level that is not an object (%s) is still refused", (text) => {
    expect(() => parseProtocolJson(text, "protocol.json")).toThrow("protocol.json is invalid");
  });

  test("a known key keeps its own checks: an empty git.branch is not set, a bad one is an error", () => {
    expect(parseProtocolJson(JSON.stringify({ git: { branch: "" } }), "p.json").git).toEqual({});
    expect(() => parseProtocolJson(JSON.stringify({ git: { branch: "a:b" } }), "p.json")).toThrow("git.branch");
  });
});
