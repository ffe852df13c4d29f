import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveRegistryAuth } from "../../src/lib/docker/credentials.ts";
import { parseImageRef } from "../../src/lib/docker/parse/image-ref.ts";
import { fetchManifestDigest, RateLimitedError, registryBaseUrl } from "../../src/lib/docker/registry.ts";
import { serveLoopback } from "../helpers/loopback.ts";

const DIGEST = `sha256:${"e".repeat(64)}`;

describe("manifest digests from a loopback registry", () => {
  test("follows the bearer challenge, asking the token endpoint with basic credentials and the pull scope", async () => {
    await using registry = serveLoopback((request, url) => {
      if (url.pathname === "/token") {
        return request.headers.get("authorization") === `Basic ${btoa("bot:pw")}`
          ? Response.json({ token: "T" })
          : new Response("no", { status: 401 });
      }
      if (request.headers.get("authorization") !== "Bearer T") {
        return new Response(null, {
          status: 401,
          headers: { "WWW-Authenticate": `Bearer realm="${base}/token",service="reg"` },
        });
      }
      return new Response(null, { headers: { "Docker-Content-Digest": DIGEST } });
    });
    const base = registry.url;
    const ref = parseImageRef(`${registry.url.replace("http://", "")}/acme/app:prod`);
    expect(await fetchManifestDigest(ref, { kind: "basic", username: "bot", password: "pw" })).toBe(DIGEST);
    const token = registry.requests.find((r) => r.path.startsWith("/token"))!;
    expect(token.path).toContain("scope=repository%3Aacme%2Fapp%3Apull");
    expect(token.path).toContain("service=reg");
    expect(registry.requests.filter((r) => r.method === "HEAD").map((r) => r.path)).toEqual([
      "/v2/acme/app/manifests/prod",
      "/v2/acme/app/manifests/prod",
    ]);
  });

  test("answers a basic challenge with the credentials", async () => {
    await using registry = serveLoopback((request) =>
      request.headers.get("authorization") === `Basic ${btoa("u:p")}`
        ? new Response(null, { headers: { "Docker-Content-Digest": DIGEST } })
        : new Response(null, { status: 401, headers: { "WWW-Authenticate": 'Basic realm="r"' } }),
    );
    const ref = parseImageRef(`${registry.url.replace("http://", "")}/app:latest`);
    expect(await fetchManifestDigest(ref, { kind: "basic", username: "u", password: "p" })).toBe(DIGEST);
  });

  test("a 429 becomes RateLimitedError carrying Retry-After", async () => {
    await using registry = serveLoopback(() => new Response(null, { status: 429, headers: { "Retry-After": "42" } }));
    const ref = parseImageRef(`${registry.url.replace("http://", "")}/app:latest`);
    const error = await fetchManifestDigest(ref, null).catch((e) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.retryAfterSeconds).toBe(42);
  });

  test("a registry that is down is a network error, not a crash", async () => {
    const ref = parseImageRef("127.0.0.1:1/app:latest");
    const error = await fetchManifestDigest(ref, null).catch((e) => e);
    expect(error.exitCode).toBe(5);
  });

  test("plain HTTP only for loopback and docker's insecure-registries; TLS otherwise", () => {
    expect(registryBaseUrl("127.0.0.1:5000", [])).toBe("http://127.0.0.1:5000");
    expect(registryBaseUrl("registry.lan:5000", ["registry.lan:5000"])).toBe("http://registry.lan:5000");
    expect(registryBaseUrl("ghcr.io", [])).toBe("https://ghcr.io");
  });

  test("credentials come from the environment, then protocol.json; empty variables count as unset", async () => {
    const config = { username: "j", password: "jp" };
    const auth = async (sources: Parameters<typeof resolveRegistryAuth>[1]) =>
      (await resolveRegistryAuth("r", sources)).auth;
    expect(
      await auth({
        env: { PROTOCOL_DOCKER_USERNAME: "e", PROTOCOL_DOCKER_PASSWORD: "ep", HOME: "/nonexistent" },
        dotenv: null,
        config,
      }),
    ).toEqual({ kind: "basic", username: "e", password: "ep" });
    expect(await auth({ env: { PROTOCOL_DOCKER_USERNAME: "", HOME: "/nonexistent" }, dotenv: null, config })).toEqual({
      kind: "basic",
      username: "j",
      password: "jp",
    });
    expect(await auth({ env: { HOME: "/nonexistent" }, dotenv: null, config: {} })).toBeNull();
  });

  test("falls back to the auth docker login stored in DOCKER_CONFIG/config.json", async () => {
    const dir = mkdtempSync(join(tmpdir(), "protocol-docker-config-"));
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({ auths: { "registry.example.com": { auth: btoa("robot:pa:ss") } } }),
    );
    const sources = { env: { DOCKER_CONFIG: dir }, dotenv: null, config: {} };
    expect((await resolveRegistryAuth("registry.example.com", sources)).auth).toEqual({
      kind: "basic",
      username: "robot",
      password: "pa:ss",
    });
    expect((await resolveRegistryAuth("other.example.com", sources)).auth).toBeNull();
  });
});
