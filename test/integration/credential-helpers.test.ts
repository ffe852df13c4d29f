/**
 * Issue 17: the digest check gets its credentials where the docker CLI would — credHelpers,
 * credsStore, auths — from a fake credential helper (the documented helper protocol) against a
 * real docker-registry with htpasswd basic auth, and behind a bearer-token server.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, loadApp } from "../../src/lib/app/app.ts";
import { readNodeState, updateNodeState } from "../../src/lib/app/state.ts";
import { checkImageUpdates } from "../../src/lib/deploy/image-updates.ts";
import { resolveRegistryAuth } from "../../src/lib/docker/credentials.ts";
import { parseImageRef } from "../../src/lib/docker/parse/image-ref.ts";
import { fetchManifestDigest } from "../../src/lib/docker/registry.ts";
import { checkRegistryAccess } from "../../src/lib/host/doctor-registry.ts";
import { recordRegistry } from "../../src/lib/node/record.ts";
import { describeNeeding } from "../helpers/needs.ts";
import {
  type AuthRegistry,
  FAKE_CREDENTIAL_HELPER_DIR,
  REGISTRY_MISSING,
  startAuthRegistry,
  startTokenRegistry,
  type TokenRegistry,
} from "../helpers/registry-auth.ts";

/** The image check as a pass runs it: the registry's record kept by the recorder, the update returned. */
async function checkAndRecord(app: App, now: number) {
  const check = await checkImageUpdates(app, readNodeState(app.paths.status), now);
  if (check.registry) recordRegistry(app, check.registry);
  return check.update;
}

const saved = { ...process.env };
let basic: AuthRegistry;
let token: TokenRegistry;
let dir: string;
let helperLog: string;

/** docker's config.json for this test, and the fake helper's answers. */
function dockerConfig(
  config: Record<string, unknown>,
  credentials: Record<string, { Username: string; Secret: string }> = {},
) {
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  process.env.FAKE_HELPER_CREDENTIALS = JSON.stringify(credentials);
}
const sources = () => ({ env: process.env, dotenv: null, config: {} });
const helperCalls = () =>
  existsSync(helperLog)
    ? readFileSync(helperLog, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
    : [];
const digestOf = async (host: string, image: string) => {
  const { auth } = await resolveRegistryAuth(host, sources());
  return fetchManifestDigest(parseImageRef(`${host}/${image}`), auth);
};

describeNeeding(REGISTRY_MISSING)(
  "registry credentials through docker credential helpers (fake helper, real registry)",
  () => {
    let pushed: string;
    let pushedToken: string;
    beforeAll(async () => {
      basic = await startAuthRegistry({ users: { robot: "s3cret-pw" } });
      token = await startTokenRegistry({ users: { robot: "s3cret-pw" }, identityTokens: { "refresh-abc": "robot" } });
      pushed = await basic.pushImage("acme/shop", "latest");
      pushedToken = await token.pushImage("acme/shop", "latest");
    });
    afterAll(async () => {
      await basic?.[Symbol.asyncDispose]();
      await token?.[Symbol.asyncDispose]();
    });
    beforeEach(() => {
      process.env = { ...saved };
      dir = mkdtempSync(join(tmpdir(), "protocol-docker-config-"));
      helperLog = join(dir, "helper.log");
      Object.assign(process.env, {
        DOCKER_CONFIG: dir,
        PATH: `${FAKE_CREDENTIAL_HELPER_DIR}:${saved.PATH}`,
        FAKE_HELPER_LOG: helperLog,
        PROTOCOL_CREDENTIAL_HELPER_TIMEOUT: "1",
      });
    });
    afterAll(() => {
      process.env = { ...saved };
    });

    test("credHelpers[<registry>]: the helper gets the registry on stdin, only `get` in argv, and its credentials read the digest", async () => {
      dockerConfig(
        { credHelpers: { [basic.host]: "fake" } },
        { [basic.host]: { Username: "robot", Secret: "s3cret-pw" } },
      );
      expect(await digestOf(basic.host, "acme/shop:latest")).toBe(pushed);
      expect(helperCalls()).toEqual([{ argv: ["get"], stdin: basic.host, helper: "fake" }]);
      expect((await resolveRegistryAuth(basic.host, sources())).source).toBe(
        `credHelpers (fake) in ${join(dir, "config.json")}`,
      );
    });

    test("credsStore when no credHelpers entry names the registry; credHelpers wins over it", async () => {
      process.env.FAKE2_HELPER_CREDENTIALS = JSON.stringify({ [basic.host]: { Username: "robot", Secret: "wrong" } });
      dockerConfig({ credsStore: "fake2" }, { [basic.host]: { Username: "robot", Secret: "s3cret-pw" } });
      await expect(digestOf(basic.host, "acme/shop:latest")).rejects.toThrow("answered 401");
      dockerConfig(
        { credsStore: "fake", credHelpers: { "other.example": "fake2" } },
        { [basic.host]: { Username: "robot", Secret: "s3cret-pw" } },
      );
      expect(await digestOf(basic.host, "acme/shop:latest")).toBe(pushed);
      dockerConfig(
        { credsStore: "fake", credHelpers: { [basic.host]: "fake2" } },
        { [basic.host]: { Username: "robot", Secret: "s3cret-pw" } },
      );
      await expect(digestOf(basic.host, "acme/shop:latest")).rejects.toThrow("answered 401");
    });

    test("a helper with nothing for the registry means anonymous, as in docker; auths is used when there is no helper", async () => {
      dockerConfig({ credHelpers: { [basic.host]: "fake" } }, {});
      expect((await resolveRegistryAuth(basic.host, sources())).auth).toBeNull();
      dockerConfig({ auths: { [basic.host]: { auth: btoa("robot:s3cret-pw") } } });
      expect(await digestOf(basic.host, "acme/shop:latest")).toBe(pushed);
    });

    test("an identity token from a helper (<token>) is exchanged at the token endpoint as a refresh token, never sent as a password", async () => {
      dockerConfig(
        { credHelpers: { [token.host]: "fake" } },
        { [token.host]: { Username: "<token>", Secret: "refresh-abc" } },
      );
      expect(await digestOf(token.host, "acme/shop:latest")).toBe(pushedToken);
      const exchange = token.requests.find((r) => r.form?.grant_type === "refresh_token");
      expect(exchange).toMatchObject({ method: "POST", authorization: null });
      expect(exchange?.form).toMatchObject({
        refresh_token: "refresh-abc",
        service: "test-registry",
        scope: "repository:acme/shop:pull",
      });
      expect(token.tokens.at(-1)).toMatchObject({ subject: "robot", via: "refresh_token" });
    });

    test("a helper that prints nothing, hangs, fails, prints garbage or is missing is one line naming it and the registry; the secret never shows", async () => {
      const cases: [Record<string, string>, string, string][] = [
        [{ FAKE_HELPER_MODE: "empty" }, "fake", "it printed nothing"],
        [{ FAKE_HELPER_MODE: "hang" }, "fake", "no answer within 1s"],
        [{ FAKE_HELPER_MODE: "fail" }, "fake", "credential helper docker-credential-fake for registry"],
        [{ FAKE_HELPER_MODE: "garbage" }, "fake", "did not print credentials as JSON"],
        [{}, "nonexistent", "docker-credential-nonexistent is not installed"],
      ];
      for (const [env, helper, message] of cases) {
        dockerConfig(
          { credHelpers: { [basic.host]: helper } },
          { [basic.host]: { Username: "robot", Secret: "s3cret-pw" } },
        );
        Object.assign(process.env, { FAKE_HELPER_MODE: "normal", ...env });
        const error = await resolveRegistryAuth(basic.host, sources()).catch((e: Error) => e);
        expect(error, JSON.stringify(env)).toBeInstanceOf(Error);
        const text = String((error as Error).message);
        expect(text).toContain(message);
        expect(text).toContain(`for registry ${basic.host}`);
        expect(text).not.toContain("s3cret-pw");
        expect(text.split("\n")).toHaveLength(1);
      }
    });

    test("a helper whose credentials are wrong: the registry's 401, with the hint to fix the credentials", async () => {
      dockerConfig({ credHelpers: { [basic.host]: "fake" } }, { [basic.host]: { Username: "robot", Secret: "wrong" } });
      const error = await digestOf(basic.host, "acme/shop:latest").catch((e) => e);
      expect(error.message).toContain(`registry ${basic.host} answered 401`);
      expect(error.hint).toContain("credential helper");
    });

    test("in the loop, a failing helper is the registry error in status, backed off; the node serves on and recovers once the helper does", async () => {
      const app = appFollowing(`${basic.host}/acme/shop:latest`, pushed);
      dockerConfig(
        { credHelpers: { [basic.host]: "fake" } },
        { [basic.host]: { Username: "robot", Secret: "s3cret-pw" } },
      );
      process.env.FAKE_HELPER_MODE = "fail";
      const now = Date.now();
      expect(await checkAndRecord(app, now)).toBeNull();
      const failed = readNodeState(app.paths.status).registry;
      expect(failed.error).toContain(`credential helper docker-credential-fake for registry ${basic.host}`);
      expect(failed.failures).toBe(1);
      expect(failed.nextCheckAt).toBeGreaterThan(now);
      // Within the backoff nothing is asked.
      const calls = helperCalls().length;
      await checkAndRecord(app, now + 1000);
      expect(helperCalls()).toHaveLength(calls);
      process.env.FAKE_HELPER_MODE = "normal";
      const moved = await basic.pushImage("acme/shop", "latest");
      const update = await checkAndRecord(app, failed.nextCheckAt! + 1);
      expect(update).toEqual({ digests: { [`${basic.host}/acme/shop:latest`]: moved } });
      expect(readNodeState(app.paths.status).registry).toMatchObject({ failures: 0, error: null });
      pushed = moved;
    });

    test("doctor reads each followed tag's digest with the credentials protocol would use, and names where they came from", async () => {
      const app = appFollowing(`${basic.host}/acme/shop:latest`, pushed);
      dockerConfig(
        { credHelpers: { [basic.host]: "fake" } },
        { [basic.host]: { Username: "robot", Secret: "s3cret-pw" } },
      );
      const ok = await checkRegistryAccess(app);
      expect(ok).toMatchObject({ name: "registry", ok: true });
      expect(ok.detail).toContain(`${basic.host}/acme/shop:latest (credHelpers (fake) in`);
      process.env.FAKE_HELPER_MODE = "hang";
      const hung = await checkRegistryAccess(app);
      expect(hung).toMatchObject({ ok: false });
      expect(hung.detail).toContain("no answer within 1s");
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));
  },
);

/** An app whose last deploy ran `image` at `digest` (what the loop follows). */
function appFollowing(image: string, digest: string) {
  const appDir = mkdtempSync(join(tmpdir(), "protocol-app-"));
  writeFileSync(join(appDir, "protocol.json"), "{}\n");
  const app = loadApp(appDir);
  updateNodeState(app.paths.status, { images: [{ service: "app", image, digest }] });
  return app;
}
