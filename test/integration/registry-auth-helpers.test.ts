/**
 * Self-test of the private-registry test infrastructure (issue 17): the htpasswd and token
 * registries of test/helpers/registry-auth.ts and the fake docker credential helper. Nothing of
 * protocol itself runs here.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sh } from "../helpers/fixture.ts";
import { describeNeeding } from "../helpers/needs.ts";
import {
  type AuthRegistry,
  FAKE_CREDENTIAL_HELPER_DIR,
  REGISTRY_MISSING,
  startAuthRegistry,
  startTokenRegistry,
  TOKEN_SERVICE,
  type TokenRegistry,
} from "../helpers/registry-auth.ts";

const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

function headManifest(base: string, repository: string, tag: string, authorization?: string) {
  return fetch(`${base}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: { Accept: ACCEPT, ...(authorization ? { Authorization: authorization } : {}) },
  });
}

describeNeeding(REGISTRY_MISSING)("the htpasswd registry (real docker-registry, basic auth)", () => {
  let registry: AuthRegistry;
  let digest: string;
  beforeAll(async () => {
    registry = await startAuthRegistry({ users: { alice: "alice-pw", bob: "bob-pw" } });
    digest = await registry.pushImage("acme/app", "prod");
  });
  afterAll(() => registry?.[Symbol.asyncDispose]());

  test("refuses an anonymous HEAD with 401 and a Basic challenge", async () => {
    const response = await headManifest(registry.url, "acme/app", "prod");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Basic realm="protocol-test-registry"');
  });

  test("answers every user's basic credentials with the digest pushImage returned", async () => {
    for (const [user, pw] of [
      ["alice", "alice-pw"],
      ["bob", "bob-pw"],
    ] as const) {
      const response = await headManifest(registry.url, "acme/app", "prod", basic(user, pw));
      expect(response.status).toBe(200);
      expect(response.headers.get("docker-content-digest")).toBe(digest);
    }
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test("refuses a wrong password", async () => {
    expect((await headManifest(registry.url, "acme/app", "prod", basic("alice", "nope"))).status).toBe(401);
  });

  test("records what reached it, the Authorization header included", async () => {
    const before = registry.requests.length;
    await headManifest(registry.url, "acme/app", "prod", basic("bob", "bob-pw"));
    expect(registry.requests.slice(before)).toMatchObject([
      { method: "HEAD", path: "/v2/acme/app/manifests/prod", authorization: basic("bob", "bob-pw"), status: 200 },
    ]);
  });

  test("pushing other content moves the tag; the same content gives the same digest", async () => {
    const moved = await registry.pushImage("acme/moving", "latest", { content: "one" });
    const again = await registry.pushImage("acme/moving", "latest", { content: "two" });
    expect(again).not.toBe(moved);
    const head = await headManifest(registry.url, "acme/moving", "latest", basic("alice", "alice-pw"));
    expect(head.headers.get("docker-content-digest")).toBe(again);
    expect(await registry.pushImage("acme/moving", "latest", { content: "two" })).toBe(again);
    const docker = await registry.pushImage("acme/moving", "docker", { content: "two", format: "docker" });
    const dockerHead = await headManifest(registry.url, "acme/moving", "docker", basic("alice", "alice-pw"));
    expect(dockerHead.headers.get("content-type")).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(dockerHead.headers.get("docker-content-digest")).toBe(docker);
  });
});

describeNeeding(REGISTRY_MISSING)("the token registry (bearer tokens in front of a real docker-registry)", () => {
  let registry: TokenRegistry;
  let digest: string;
  beforeAll(async () => {
    registry = await startTokenRegistry({ users: { alice: "alice-pw" }, identityTokens: { "id-token-1": "alice" } });
    digest = await registry.pushImage("acme/app", "prod");
  });
  afterAll(() => registry?.[Symbol.asyncDispose]());

  test("refuses an anonymous HEAD with 401 and a Bearer challenge naming realm, service and pull scope", async () => {
    const response = await headManifest(registry.url, "acme/app", "prod");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer realm="${registry.url}/token",service="${TOKEN_SERVICE}",scope="repository:acme/app:pull"`,
    );
    expect(registry.realm).toBe(`${registry.url}/token`);
  });

  test("a token fetched with basic credentials ({token}) opens the manifest, with pushImage's digest", async () => {
    const url = `${registry.realm}?service=${TOKEN_SERVICE}&scope=repository:acme/app:pull`;
    const answer = await fetch(url, { headers: { Authorization: basic("alice", "alice-pw") } });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { token: string; access_token?: string };
    expect(body.access_token).toBeUndefined();
    const response = await headManifest(registry.url, "acme/app", "prod", `Bearer ${body.token}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("docker-content-digest")).toBe(digest);
    expect(registry.tokens.at(-1)).toEqual({
      token: body.token,
      subject: "alice",
      scopes: ["repository:acme/app:pull"],
      via: "basic",
    });
  });

  test("no token for wrong or missing basic credentials", async () => {
    const url = `${registry.realm}?service=${TOKEN_SERVICE}&scope=repository:acme/app:pull`;
    expect((await fetch(url, { headers: { Authorization: basic("alice", "nope") } })).status).toBe(401);
    expect((await fetch(url)).status).toBe(401);
  });

  test("an identity token posted as refresh_token gets {access_token}, and the form is recorded", async () => {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: "id-token-1",
      service: TOKEN_SERVICE,
      scope: "repository:acme/app:pull",
      client_id: "protocol",
    });
    const answer = await fetch(registry.realm, { method: "POST", body: form });
    expect(answer.status).toBe(200);
    const { access_token } = (await answer.json()) as { access_token: string };
    const response = await headManifest(registry.url, "acme/app", "prod", `Bearer ${access_token}`);
    expect(response.headers.get("docker-content-digest")).toBe(digest);
    expect(registry.tokens.at(-1)).toMatchObject({ token: access_token, subject: "alice", via: "refresh_token" });
    expect(registry.requests.find((r) => r.method === "POST")?.form).toEqual(Object.fromEntries(form));
  });

  test("an unknown refresh token, or a form without client_id, is refused", async () => {
    const form = { grant_type: "refresh_token", service: TOKEN_SERVICE, scope: "repository:acme/app:pull" };
    const unknown = new URLSearchParams({ ...form, refresh_token: "stolen", client_id: "protocol" });
    const refused = await fetch(registry.realm, { method: "POST", body: unknown });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: "invalid_grant" });
    const noClient = new URLSearchParams({ ...form, refresh_token: "id-token-1" });
    expect((await fetch(registry.realm, { method: "POST", body: noClient })).status).toBe(400);
  });

  test("an invalid token or one for another repository is refused with the error in the challenge", async () => {
    const invalid = await headManifest(registry.url, "acme/app", "prod", "Bearer made-up");
    expect(invalid.status).toBe(401);
    expect(invalid.headers.get("www-authenticate")).toContain('error="invalid_token"');
    const url = `${registry.realm}?service=${TOKEN_SERVICE}&scope=repository:acme/other:pull`;
    const { token } = (await (await fetch(url, { headers: { Authorization: basic("alice", "alice-pw") } })).json()) as {
      token: string;
    };
    const other = await headManifest(registry.url, "acme/app", "prod", `Bearer ${token}`);
    expect(other.status).toBe(401);
    expect(other.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
  });
});

describe("the fake docker credential helper", () => {
  const dir = mkdtempSync(join(tmpdir(), "fake-helper-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const CREDENTIALS = JSON.stringify({
    "127.0.0.1:5000": { Username: "alice", Secret: "alice-pw" },
    "https://index.docker.io/v1/": { Username: "<token>", Secret: "identity-token" },
  });
  const helper = (input: string, env: Record<string, string> = {}, name = "docker-credential-fake", action = "get") =>
    sh([join(FAKE_CREDENTIAL_HELPER_DIR, name), action], {
      input,
      env: { FAKE_HELPER_CREDENTIALS: CREDENTIALS, ...env },
    });

  test("get prints the credentials of the server URL read on stdin", async () => {
    const run = await helper("127.0.0.1:5000\n");
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ ServerURL: "127.0.0.1:5000", Username: "alice", Secret: "alice-pw" });
    const hub = JSON.parse((await helper("https://index.docker.io/v1/")).stdout);
    expect(hub).toEqual({ ServerURL: "https://index.docker.io/v1/", Username: "<token>", Secret: "identity-token" });
  });

  test("a server it has nothing for: 'credentials not found in native keychain' on stdout, exit 1", async () => {
    const run = await helper("registry.example:5000");
    expect(run.exitCode).toBe(1);
    expect(run.stdout.trim()).toBe("credentials not found in native keychain");
  });

  test("logs every call's argv and stdin, secrets and all, naming the helper that ran", async () => {
    const log = join(dir, "calls.jsonl");
    await helper("127.0.0.1:5000\n", { FAKE_HELPER_LOG: log });
    await helper("nowhere", { FAKE_HELPER_LOG: log, FAKE_HELPER_MODE: "fail" });
    const calls = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(calls).toEqual([
      { argv: ["get"], stdin: "127.0.0.1:5000\n", helper: "fake" },
      { argv: ["get"], stdin: "nowhere", helper: "fake" },
    ]);
  });

  test("mode empty prints nothing and exits 0; fail exits 1 with a message on stderr; garbage prints non-JSON", async () => {
    const empty = await helper("127.0.0.1:5000", { FAKE_HELPER_MODE: "empty" });
    expect([empty.exitCode, empty.stdout]).toEqual([0, ""]);
    const fail = await helper("127.0.0.1:5000", { FAKE_HELPER_MODE: "fail" });
    expect(fail.exitCode).toBe(1);
    expect(fail.stdout).toBe("");
    expect(fail.stderr).toContain("fake failure");
    const garbage = await helper("127.0.0.1:5000", { FAKE_HELPER_MODE: "garbage" });
    expect(garbage.exitCode).toBe(0);
    expect(() => JSON.parse(garbage.stdout)).toThrow();
  });

  test("mode hang never answers until killed", async () => {
    const child = Bun.spawn([join(FAKE_CREDENTIAL_HELPER_DIR, "docker-credential-fake"), "get"], {
      stdin: new Blob(["127.0.0.1:5000"]),
      stdout: "pipe",
      env: { ...process.env, FAKE_HELPER_CREDENTIALS: CREDENTIALS, FAKE_HELPER_MODE: "hang" },
    });
    const outcome = await Promise.race([child.exited.then(() => "exited"), Bun.sleep(500).then(() => "running")]);
    expect(outcome).toBe("running");
    child.kill("SIGKILL");
    await child.exited;
    expect(await new Response(child.stdout).text()).toBe("");
  });

  test("docker-credential-fake2 reads FAKE2_HELPER_ settings first, FAKE_HELPER_ ones otherwise", async () => {
    const own = JSON.stringify({ "127.0.0.1:5000": { Username: "bob", Secret: "bob-pw" } });
    const log = join(dir, "fake2.jsonl");
    const run = await helper(
      "127.0.0.1:5000",
      { FAKE2_HELPER_CREDENTIALS: own, FAKE_HELPER_LOG: log },
      "docker-credential-fake2",
    );
    expect(JSON.parse(run.stdout)).toMatchObject({ Username: "bob", Secret: "bob-pw" });
    expect(JSON.parse(readFileSync(log, "utf8")).helper).toBe("fake2");
    const fallback = await helper("127.0.0.1:5000", {}, "docker-credential-fake2");
    expect(JSON.parse(fallback.stdout)).toMatchObject({ Username: "alice" });
  });

  test("list maps each server URL to its user name", async () => {
    const run = await helper("", {}, "docker-credential-fake", "list");
    expect(JSON.parse(run.stdout)).toEqual({ "127.0.0.1:5000": "alice", "https://index.docker.io/v1/": "<token>" });
  });
});
