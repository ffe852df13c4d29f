/**
 * Private registries for the credential tests (issue 17): the real `docker-registry` binary (Debian
 * package docker-registry, distribution 2.8) on 127.0.0.1, behind a recording Bun.serve front.
 *
 * - startAuthRegistry: the registry's own htpasswd (basic) auth; the front only forwards and records.
 * - startTokenRegistry: an unauthenticated registry; the front plays the bearer-token server the way
 *   Docker Hub and most private registries do (401 + `WWW-Authenticate: Bearer`, a /token endpoint
 *   taking basic credentials (GET) or an OAuth2 form with an identity (refresh) token (POST)).
 *
 * `requests` holds what reached the front, in order, secrets included: tests check what was sent.
 * `pushImage` talks to the backing registry directly, so its uploads are never in `requests`.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "./fixture.ts";
import { freePort } from "./git-daemon.ts";

/** Holds docker-credential-fake and docker-credential-fake2 (see the header of the script): put it on PATH. */
export const FAKE_CREDENTIAL_HELPER_DIR = join(import.meta.dir, "..", "fixtures", "fake-credential-helper");

const REGISTRY_BINARY = Bun.which("docker-registry");

/** Why the registry tests cannot run here, or null: for testNeeding/describeNeeding. */
export const REGISTRY_MISSING = REGISTRY_BINARY
  ? null
  : "docker-registry is not installed (apt-get install docker-registry)";

/** The `service` the token registry names in its challenges and expects at its token endpoint. */
export const TOKEN_SERVICE = "test-registry";
const HTPASSWD_REALM = "protocol-test-registry";
const TOKEN_TTL_SECONDS = 300;

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: Headers;
  authorization: string | null;
  /** The token endpoint's POST body (application/x-www-form-urlencoded), secrets included; else null. */
  form: Record<string, string> | null;
  /** What the front answered (0 until it has). */
  status: number;
}

export interface PushOptions {
  /** What the image holds (its layer and a config label); same content, same digest. Default: random. */
  content?: string;
  /** The manifest type pushed. Default "oci" (application/vnd.oci.image.manifest.v1+json). */
  format?: "oci" | "docker";
}

interface Registry extends AsyncDisposable {
  /** "127.0.0.1:PORT": the front, as an image reference names it. */
  host: string;
  /** "http://127.0.0.1:PORT": the front. */
  url: string;
  /** The backing docker-registry itself (no recording; the token registry's has no auth at all). */
  backendUrl: string;
  requests: RecordedRequest[];
  /** Push a tiny image (one config blob, one layer) as repository:tag; returns its manifest digest. */
  pushImage(repository: string, tag: string, options?: PushOptions): Promise<string>;
}

export interface AuthRegistry extends Registry {}

export interface IssuedToken {
  token: string;
  /** The user it was issued to. */
  subject: string;
  /** The scopes asked for (and granted: every user may do everything). */
  scopes: string[];
  via: "basic" | "refresh_token" | "password";
}

export interface TokenRegistry extends Registry {
  /** The token endpoint (the challenge's realm). */
  realm: string;
  service: string;
  /** Every token the token endpoint issued, in order. */
  tokens: IssuedToken[];
}

function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

function parseBasic(header: string | null): { username: string; password: string } | null {
  const match = header?.match(/^Basic\s+(\S+)$/i);
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sha256(data: Uint8Array | string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`;
}

// ---------------------------------------------------------------------------------------------
// The backing registry process

interface Backend {
  url: string;
  stop(): Promise<void>;
}

async function stopChild(child: Bun.Subprocess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(5_000).then(() => false)]);
  if (!exited) {
    child.kill("SIGKILL");
    await child.exited;
  }
}

/** `docker-registry serve` on a free port of 127.0.0.1, storage and log in `dir`; resolves once /v2/ answers. */
async function startBackend(dir: string, auth?: { htpasswd: string }): Promise<Backend> {
  if (!REGISTRY_BINARY) throw new Error(REGISTRY_MISSING!);
  const config = join(dir, "registry.yml");
  const log = join(dir, "registry.log");
  // Another process may take the free port before the registry binds it: then it exits, and we retry.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    // JSON strings are YAML strings: paths with any character stay intact.
    const lines = [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${JSON.stringify(join(dir, "storage"))}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${JSON.stringify(crypto.randomUUID())}`,
    ];
    if (auth) {
      lines.push(
        "auth:",
        "  htpasswd:",
        `    realm: ${JSON.stringify(HTPASSWD_REALM)}`,
        `    path: ${JSON.stringify(auth.htpasswd)}`,
      );
    }
    writeFileSync(config, `${lines.join("\n")}\n`);
    // Its log (logrus, on stderr) and anything on stdout go to registry.log, not into the test output.
    const fd = openSync(log, "a");
    const child = Bun.spawn([REGISTRY_BINARY, "serve", config], { stdin: "ignore", stdout: fd, stderr: fd });
    closeSync(fd);
    const url = `http://127.0.0.1:${port}`;
    const answers = async () => {
      try {
        await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1_000) });
        return true;
      } catch {
        return false;
      }
    };
    await eventually(async () => child.exitCode !== null || (await answers()), 10_000, 25);
    if (child.exitCode === null && (await answers())) return { url, stop: () => stopChild(child) };
    await stopChild(child);
  }
  let tail = "";
  try {
    tail = readFileSync(log, "utf8").split("\n").slice(-20).join("\n");
  } catch {
    // no log
  }
  throw new Error(`docker-registry did not start (config ${config}):\n${tail}`);
}

// ---------------------------------------------------------------------------------------------
// Pushing a tiny image with the registry HTTP API

/** A tar holding one regular file. */
function tarOf(name: string, content: Uint8Array): Uint8Array<ArrayBuffer> {
  const header = new Uint8Array(512);
  const put = (offset: number, text: string) => header.set(new TextEncoder().encode(text), offset);
  const octal = (value: number, width: number) => `${value.toString(8).padStart(width - 1, "0")}\0`;
  put(0, name);
  put(100, octal(0o644, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(content.length, 12));
  put(136, octal(0, 12));
  put(148, "        ");
  put(156, "0");
  put(257, "ustar\u000000");
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  put(148, `${checksum.toString(8).padStart(6, "0")}\0 `);
  const padded = Math.ceil(content.length / 512) * 512;
  const tar = new Uint8Array(512 + padded + 1024);
  tar.set(header, 0);
  tar.set(content, 512);
  return tar;
}

async function expectStatus(response: Response, expected: number, what: string): Promise<Response> {
  if (response.status !== expected)
    throw new Error(`${what}: the registry answered ${response.status}: ${await response.text()}`);
  return response;
}

async function uploadBlob(
  base: string,
  auth: Record<string, string>,
  repository: string,
  blob: Uint8Array<ArrayBuffer>,
) {
  const digest = sha256(blob);
  const started = await expectStatus(
    await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: "POST", headers: auth }),
    202,
    `starting an upload to ${repository}`,
  );
  const location = new URL(started.headers.get("location") ?? "", base);
  location.searchParams.set("digest", digest);
  await expectStatus(
    await fetch(location, {
      method: "PUT",
      headers: { ...auth, "Content-Type": "application/octet-stream" },
      body: blob,
    }),
    201,
    `uploading ${digest} to ${repository}`,
  );
  return { digest, size: blob.length };
}

async function pushTinyImage(
  base: string,
  auth: Record<string, string>,
  repository: string,
  tag: string,
  options: PushOptions = {},
): Promise<string> {
  const content = options.content ?? crypto.randomUUID();
  const tar = tarOf("protocol-test.txt", new TextEncoder().encode(`${content}\n`));
  const gzipped = Bun.gzipSync(tar);
  const layerBytes = new Uint8Array(gzipped.length);
  layerBytes.set(gzipped);
  const layer = await uploadBlob(base, auth, repository, layerBytes);
  const imageConfig = new TextEncoder().encode(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Labels: { "sh.protocol.test.content": content } },
      rootfs: { type: "layers", diff_ids: [sha256(tar)] },
    }),
  );
  const configBlob = await uploadBlob(base, auth, repository, imageConfig);
  const oci = (options.format ?? "oci") === "oci";
  const mediaType = oci
    ? "application/vnd.oci.image.manifest.v1+json"
    : "application/vnd.docker.distribution.manifest.v2+json";
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType,
    config: {
      mediaType: oci ? "application/vnd.oci.image.config.v1+json" : "application/vnd.docker.container.image.v1+json",
      ...configBlob,
    },
    layers: [
      {
        mediaType: oci
          ? "application/vnd.oci.image.layer.v1.tar+gzip"
          : "application/vnd.docker.image.rootfs.diff.tar.gzip",
        ...layer,
      },
    ],
  });
  const put = await expectStatus(
    await fetch(`${base}/v2/${repository}/manifests/${tag}`, {
      method: "PUT",
      headers: { ...auth, "Content-Type": mediaType },
      body: manifest,
    }),
    201,
    `pushing the manifest of ${repository}:${tag}`,
  );
  const digest = put.headers.get("docker-content-digest");
  if (digest !== sha256(manifest))
    throw new Error(`the registry reported digest ${digest} for a manifest whose digest is ${sha256(manifest)}`);
  return digest;
}

// ---------------------------------------------------------------------------------------------
// The recording front

const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "content-encoding", "host", "content-length"];

/** Send a request on to the backend as it came (its Authorization too), rewriting Location back to the front. */
async function forward(request: Request, url: URL, backendUrl: string, frontUrl: string): Promise<Response> {
  const headers = new Headers(request.headers);
  for (const name of HOP_BY_HOP) headers.delete(name);
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  const upstream = await fetch(`${backendUrl}${url.pathname}${url.search}`, {
    method: request.method,
    headers,
    body: hasBody ? await request.arrayBuffer() : undefined,
    redirect: "manual",
    decompress: false,
  });
  const answer = new Headers(upstream.headers);
  for (const name of ["connection", "keep-alive", "transfer-encoding"]) answer.delete(name);
  const location = answer.get("location");
  if (location?.startsWith(backendUrl)) answer.set("location", frontUrl + location.slice(backendUrl.length));
  const body = request.method === "HEAD" ? null : await upstream.arrayBuffer();
  return new Response(body, { status: upstream.status, headers: answer });
}

interface Front {
  url: string;
  host: string;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

function startFront(handle: (request: Request, url: URL, entry: RecordedRequest) => Promise<Response>): Front {
  const requests: RecordedRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const entry: RecordedRequest = {
        method: request.method,
        path: url.pathname + url.search,
        headers: request.headers,
        authorization: request.headers.get("authorization"),
        form: null,
        status: 0,
      };
      requests.push(entry);
      let response: Response;
      try {
        response = await handle(request, url, entry);
      } catch (error) {
        response = new Response(`test registry front: ${(error as Error).message}`, { status: 502 });
      }
      entry.status = response.status;
      return response;
    },
  });
  const host = `127.0.0.1:${server.port}`;
  return { url: `http://${host}`, host, requests, stop: () => server.stop(true) };
}

function tempDir(kind: string): string {
  return mkdtempSync(join(tmpdir(), `protocol-registry-${kind}-`));
}

/** Start things in order; if one fails, undo the ones already started (and remove `dir`). */
async function withCleanup<T>(dir: string, build: (undo: (step: () => Promise<void>) => void) => Promise<T>) {
  const steps: Array<() => Promise<void>> = [];
  try {
    return await build((step) => steps.push(step));
  } catch (error) {
    for (const step of steps.reverse()) await step().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// htpasswd

async function htpasswdLine(username: string, password: string): Promise<string> {
  if (username.includes(":") || /\s/.test(username)) throw new Error(`htpasswd user names take no ':' or space`);
  // Bun pre-hashes passwords over 72 bytes (bcrypt's limit), which the registry's bcrypt would not match.
  if (Buffer.byteLength(password) > 72) throw new Error("bcrypt takes passwords of at most 72 bytes");
  // The registry's Go bcrypt takes $2b$ as it is. Cost 4 (the minimum): it verifies on every request.
  return `${username}:${await Bun.password.hash(password, { algorithm: "bcrypt", cost: 4 })}`;
}

/**
 * The real docker-registry with htpasswd (basic) auth, for `users` (name → password). Anonymous
 * requests get 401 `WWW-Authenticate: Basic realm="protocol-test-registry"`. pushImage pushes as
 * the first user.
 */
export async function startAuthRegistry(options: { users: Record<string, string> }): Promise<AuthRegistry> {
  const dir = tempDir("htpasswd");
  return withCleanup(dir, async (undo) => {
    const htpasswd = join(dir, "htpasswd");
    const lines = await Promise.all(Object.entries(options.users).map(([user, pw]) => htpasswdLine(user, pw)));
    // It must exist, even empty: a missing htpasswd file makes the registry create one with a user
    // "docker" and a random password (printed to its log).
    writeFileSync(htpasswd, lines.map((line) => `${line}\n`).join(""));
    const backend = await startBackend(dir, { htpasswd });
    undo(backend.stop);
    const front = startFront((request, url) => forward(request, url, backend.url, front.url));
    const first = Object.entries(options.users)[0];
    return {
      host: front.host,
      url: front.url,
      backendUrl: backend.url,
      requests: front.requests,
      pushImage(repository, tag, push) {
        if (!first) throw new Error("startAuthRegistry: no users to push as");
        return pushTinyImage(backend.url, { Authorization: basicAuth(first[0], first[1]) }, repository, tag, push);
      },
      async [Symbol.asyncDispose]() {
        await front.stop();
        await backend.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Bearer tokens

/** `type:name:actions` scope strings, from repeated `scope` parameters and space-separated lists. */
function scopesOf(values: string[]): string[] {
  return values.flatMap((value) => value.split(" ")).filter(Boolean);
}

function grants(scopes: string[], repository: string, action: "pull" | "push"): boolean {
  return scopes.some((scope) => {
    const last = scope.lastIndexOf(":");
    const first = scope.indexOf(":");
    if (first < 0 || last === first) return false;
    const [type, name, actions] = [scope.slice(0, first), scope.slice(first + 1, last), scope.slice(last + 1)];
    return type === "repository" && name === repository && actions.split(",").some((a) => a === action || a === "*");
  });
}

function registryError(status: number, code: string, message: string, headers: Record<string, string> = {}) {
  return Response.json(
    { errors: [{ code, message, detail: null }] },
    { status, headers: { "Docker-Distribution-Api-Version": "registry/2.0", ...headers } },
  );
}

/**
 * A bearer-token registry: the real docker-registry (no auth of its own) behind a front that wants
 * `Authorization: Bearer <token>` on /v2/, with the scope of the repository (pull for GET/HEAD, push
 * otherwise). Without one: 401 `WWW-Authenticate: Bearer realm="<url>/token",service="test-registry"
 * [,scope="repository:<repo>:pull"][,error="invalid_token"|"insufficient_scope"]`.
 *
 * Its token endpoint `<url>/token`:
 * - GET with basic credentials of one of `users` (service and scope in the query) → `{"token"}`;
 *   no or wrong credentials → 401 (no anonymous tokens).
 * - POST application/x-www-form-urlencoded, the OAuth2 form docker sends with an identity token:
 *   `grant_type=refresh_token&refresh_token=<one of identityTokens>&service&scope&client_id` →
 *   `{"access_token"}` for the user it maps to; `grant_type=password&username&password&client_id`
 *   likewise. client_id is required (the distribution token spec says so); an unknown refresh token
 *   or wrong password → 401 `{"error":"invalid_grant"}`.
 * A `service` other than "test-registry" → 400. Every user may pull and push every repository.
 */
export async function startTokenRegistry(options: {
  users: Record<string, string>;
  identityTokens?: Record<string, string>;
}): Promise<TokenRegistry> {
  const dir = tempDir("token");
  const users = options.users;
  const identityTokens = options.identityTokens ?? {};
  return withCleanup(dir, async (undo) => {
    const backend = await startBackend(dir);
    undo(backend.stop);
    const tokens: IssuedToken[] = [];
    const issue = (subject: string, scopes: string[], via: IssuedToken["via"]) => {
      const token = `test-token-${crypto.randomUUID()}`;
      tokens.push({ token, subject, scopes, via });
      return token;
    };
    const knownUser = (username: string, password: string) =>
      Object.hasOwn(users, username) && users[username] === password;

    const tokenEndpoint = async (request: Request, url: URL, entry: RecordedRequest): Promise<Response> => {
      const issuedAt = new Date().toISOString();
      if (request.method === "GET") {
        const service = url.searchParams.get("service");
        if (service !== null && service !== TOKEN_SERVICE)
          return Response.json({ details: `unknown service ${service}` }, { status: 400 });
        const credentials = parseBasic(entry.authorization);
        if (!credentials || !knownUser(credentials.username, credentials.password))
          return Response.json({ details: "incorrect username or password" }, { status: 401 });
        const scopes = scopesOf(url.searchParams.getAll("scope"));
        const token = issue(credentials.username, scopes, "basic");
        return Response.json({ token, expires_in: TOKEN_TTL_SECONDS, issued_at: issuedAt });
      }
      if (request.method !== "POST") return new Response("method not allowed", { status: 405 });
      const body = await request.text();
      const params = new URLSearchParams(body);
      entry.form = Object.fromEntries(params);
      if (!/^application\/x-www-form-urlencoded\b/i.test(request.headers.get("content-type") ?? ""))
        return Response.json({ error: "invalid_request", error_description: "expected a form" }, { status: 400 });
      const service = params.get("service");
      if (service !== TOKEN_SERVICE)
        return Response.json(
          { error: "invalid_request", error_description: `unknown service ${service}` },
          { status: 400 },
        );
      if (!params.get("client_id"))
        return Response.json({ error: "invalid_request", error_description: "client_id is required" }, { status: 400 });
      const scopes = scopesOf(params.getAll("scope"));
      let subject: string | undefined;
      let via: IssuedToken["via"];
      const grantType = params.get("grant_type");
      if (grantType === "refresh_token") {
        const refresh = params.get("refresh_token") ?? "";
        subject = Object.hasOwn(identityTokens, refresh) ? identityTokens[refresh] : undefined;
        via = "refresh_token";
      } else if (grantType === "password") {
        const username = params.get("username") ?? "";
        subject = knownUser(username, params.get("password") ?? "") ? username : undefined;
        via = "password";
      } else {
        return Response.json({ error: "unsupported_grant_type" }, { status: 400 });
      }
      if (subject === undefined) return Response.json({ error: "invalid_grant" }, { status: 401 });
      const token = issue(subject, scopes, via);
      return Response.json({
        access_token: token,
        scope: scopes.join(" "),
        expires_in: TOKEN_TTL_SECONDS,
        issued_at: issuedAt,
      });
    };

    const front = startFront(async (request, url, entry) => {
      if (url.pathname === "/token") return tokenEndpoint(request, url, entry);
      if (url.pathname !== "/v2" && !url.pathname.startsWith("/v2/")) return new Response("not found", { status: 404 });
      const repository = url.pathname.match(/^\/v2\/(.+)\/(manifests|blobs|tags)\//)?.[1];
      const action = request.method === "GET" || request.method === "HEAD" ? "pull" : "push";
      const bearer = entry.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
      const issued = bearer ? tokens.find((t) => t.token === bearer) : undefined;
      let error: string | null = null;
      if (bearer && !issued) error = "invalid_token";
      else if (issued && repository && !grants(issued.scopes, repository, action)) error = "insufficient_scope";
      if (!issued || error) {
        const scope = repository ? `,scope="repository:${repository}:${action === "pull" ? "pull" : "pull,push"}"` : "";
        const challenge = `Bearer realm="${front.url}/token",service="${TOKEN_SERVICE}"${scope}${error ? `,error="${error}"` : ""}`;
        return registryError(401, "UNAUTHORIZED", "authentication required", { "WWW-Authenticate": challenge });
      }
      return forward(request, url, backend.url, front.url);
    });

    return {
      host: front.host,
      url: front.url,
      backendUrl: backend.url,
      realm: `${front.url}/token`,
      service: TOKEN_SERVICE,
      requests: front.requests,
      tokens,
      pushImage: (repository, tag, push) => pushTinyImage(backend.url, {}, repository, tag, push),
      async [Symbol.asyncDispose]() {
        await front.stop();
        await backend.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
