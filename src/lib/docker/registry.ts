import { ofetch } from "ofetch";
import * as v from "valibot";
import { NetworkError } from "../core/errors.ts";
import { readText } from "../core/http.ts";
import { readJsonFile } from "../core/json-file.ts";
import type { RegistryAuth } from "./credentials.ts";
import { type ImageRef, isLoopbackRegistry } from "./parse/image-ref.ts";
import { parseRetryAfter, parseWwwAuthenticate } from "./parse/www-authenticate.ts";

/** Every manifest type a tag can point at, so the registry answers with the digest docker would pull. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

const REQUEST_TIMEOUT_MS = 15_000;

/** The registry said "slow down": wait `retryAfterSeconds` before asking again. */
export class RateLimitedError extends NetworkError {
  constructor(
    registry: string,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `registry ${registry} is rate-limiting this node (retry after ${retryAfterSeconds}s)`,
      "protocol waits as asked; set docker.updates to off to stop asking",
    );
  }
}

const TokenSchema = v.union([v.object({ token: v.string() }), v.object({ access_token: v.string() })]);
const DaemonJsonSchema = v.object({ "insecure-registries": v.optional(v.array(v.string()), []) });

/** docker's daemon.json insecure-registries: the only non-loopback registries spoken to over plain HTTP. */
export function insecureRegistries(path = "/etc/docker/daemon.json"): string[] {
  return readJsonFile(path, DaemonJsonSchema, { "insecure-registries": [] })["insecure-registries"];
}

export function registryBaseUrl(registry: string, insecure: string[] = insecureRegistries()): string {
  const plain = isLoopbackRegistry(registry) || insecure.includes(registry);
  return `${plain ? "http" : "https"}://${registry}`;
}

function basic(credentials: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
}

async function head(url: string, headers: Record<string, string>) {
  try {
    return await ofetch.raw(url, {
      method: "HEAD",
      headers,
      ignoreResponseError: true,
      retry: 0,
      timeout: REQUEST_TIMEOUT_MS,
    });
  } catch (error) {
    throw new NetworkError(
      `registry request ${url} failed: ${(error as Error).message}`,
      "check the network and the registry; protocol retries with backoff",
    );
  }
}

/**
 * The token flow of the registry API: a bearer token for pulling `repository`. Anonymous without
 * credentials, basic auth with a username and password (GET), and an identity token from a
 * credential helper or `docker login` exchanged as an OAuth2 refresh token (POST), as docker does.
 */
async function fetchToken(
  params: Record<string, string>,
  repository: string,
  auth: RegistryAuth | null,
): Promise<string> {
  const realm = params.realm;
  if (!realm) throw new NetworkError("registry asked for a bearer token without a realm");
  const url = new URL(realm);
  const scope = params.scope ?? `repository:${repository}:pull`;
  const identity = auth?.kind === "identity";
  if (!identity) {
    if (params.service) url.searchParams.set("service", params.service);
    url.searchParams.set("scope", scope);
  }
  // ofetch's timeout stops at the headers: this one covers the body too (a server that drips it).
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new Error(`no complete answer in ${REQUEST_TIMEOUT_MS / 1000}s`)),
    REQUEST_TIMEOUT_MS,
  );
  try {
    const form = identity
      ? new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: auth.token,
          service: params.service ?? "",
          scope,
          client_id: "protocol",
        }).toString()
      : undefined;
    const response = await ofetch.raw(url.toString(), {
      ...(form ? { method: "POST", body: form } : {}),
      headers: form
        ? { "Content-Type": "application/x-www-form-urlencoded" }
        : auth?.kind === "basic"
          ? { Authorization: basic(auth) }
          : {},
      retry: 0,
      signal: abort.signal,
      responseType: "stream",
    });
    const parsed = v.parse(TokenSchema, JSON.parse(await readText(response, url.origin)));
    return "token" in parsed ? parsed.token : parsed.access_token;
  } catch (error) {
    const reason = abort.signal.aborted ? (abort.signal.reason as Error) : (error as Error);
    throw new NetworkError(
      `could not get a registry token from ${url.origin}: ${reason.message}`,
      "check the registry credentials (PROTOCOL_DOCKER_USERNAME/PASSWORD or docker login)",
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The digest a tag points at now, from one HEAD request (no pull, no download of layers): the
 * `Docker-Content-Digest` header. Anonymous first; on a 401 it follows the challenge (bearer token
 * or basic). A 429 throws RateLimitedError with the registry's Retry-After.
 */
export async function fetchManifestDigest(
  ref: ImageRef,
  auth: RegistryAuth | null,
  insecure?: string[],
): Promise<string> {
  const reference = ref.digest ?? ref.tag ?? "latest";
  const url = `${registryBaseUrl(ref.registry, insecure)}/v2/${ref.repository}/manifests/${reference}`;
  const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT };
  let response = await head(url, headers);
  if (response.status === 401) {
    const challenge = parseWwwAuthenticate(response.headers.get("www-authenticate"));
    if (challenge?.scheme === "bearer") {
      headers.Authorization = `Bearer ${await fetchToken(challenge.params, ref.repository, auth)}`;
    } else if (auth?.kind === "basic") {
      headers.Authorization = basic(auth);
    }
    if (headers.Authorization) response = await head(url, headers);
  }
  if (response.status === 429)
    throw new RateLimitedError(ref.registry, parseRetryAfter(response.headers.get("retry-after")) ?? 60);
  if (!response.ok) {
    throw new NetworkError(
      `registry ${ref.registry} answered ${response.status} for ${ref.repository}:${reference}`,
      response.status === 401
        ? "give protocol registry credentials (PROTOCOL_DOCKER_USERNAME/PASSWORD, docker login, or a credential helper in ~/.docker/config.json)"
        : "check the image name in the compose file",
    );
  }
  const digest = response.headers.get("docker-content-digest");
  if (!digest)
    throw new NetworkError(`registry ${ref.registry} sent no Docker-Content-Digest for ${ref.repository}:${reference}`);
  return digest;
}
