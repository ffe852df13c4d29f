/**
 * Registry credentials the way the docker CLI finds them, for protocol's own registry requests (the
 * digest check): PROTOCOL_DOCKER_USERNAME/PASSWORD (environment, the app's .env, protocol.json),
 * then docker's config.json ($DOCKER_CONFIG, else ~/.docker): `credHelpers[<registry>]`, then
 * `credsStore`, then `auths`. A helper is `docker-credential-<name> get` with the registry on
 * stdin and JSON on stdout; what it prints is a secret, never logged and never in an argv.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { errorMessage, MissingProgramError, StepFailedError } from "../core/errors.ts";
import { readJsonFile } from "../core/json-file.ts";
import { run } from "../core/spawn.ts";
import { type CredentialSources, resolveDockerCredentials } from "./login.ts";
import { DOCKER_HUB } from "./parse/image-ref.ts";

export type RegistryAuth =
  | { kind: "basic"; username: string; password: string }
  /** `Username: "<token>"`: an identity (refresh) token, exchanged at the registry's token endpoint. */
  | { kind: "identity"; token: string };

export interface ResolvedAuth {
  auth: RegistryAuth | null;
  /** Where it came from, for doctor and errors (never the secret): "credHelpers (ecr-login)", "anonymous"… */
  source: string;
}

/**
 * A helper is given this long (30 s: a cloud helper may mint a token first), or
 * PROTOCOL_CREDENTIAL_HELPER_TIMEOUT seconds: one that hangs must not stall the loop.
 */
export function helperTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  const seconds = Number(env.PROTOCOL_CREDENTIAL_HELPER_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 30_000;
}

const DockerConfigSchema = v.object({
  auths: v.optional(
    v.record(v.string(), v.object({ auth: v.optional(v.string()), identitytoken: v.optional(v.string()) })),
    {},
  ),
  credsStore: v.optional(v.string()),
  credHelpers: v.optional(v.record(v.string(), v.string()), {}),
});
type DockerConfig = v.InferOutput<typeof DockerConfigSchema>;

export function dockerConfigPath(env: Record<string, string | undefined>): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || homedir(), ".docker"), "config.json");
}

/** The names a registry goes by in config.json: Docker Hub's historic URL forms, else host and https://host. */
export function registryKeys(registry: string): string[] {
  return registry === DOCKER_HUB
    ? ["https://index.docker.io/v1/", "index.docker.io", "docker.io", DOCKER_HUB]
    : [registry, `https://${registry}`];
}

/** What a helper is given on stdin: the docker CLI's server address for the registry. */
export function helperServerUrl(registry: string): string {
  return registry === DOCKER_HUB ? "https://index.docker.io/v1/" : registry;
}

const HelperAnswerSchema = v.object({
  ServerURL: v.optional(v.string()),
  Username: v.string(),
  Secret: v.pipe(v.string(), v.minLength(1)),
});

/** A line a helper printed, cut at 120 characters, each word that could be a token (16+ characters of a token's alphabet, with a digit) masked. */
export function redactLine(line: string): string {
  const masked = line.replace(/[A-Za-z0-9+/=_.:-]{16,}/g, (word) => (/\d/.test(word) ? "[redacted]" : word));
  return masked.length > 120 ? `${masked.slice(0, 120)}…` : masked;
}

function helperError(helper: string, registry: string, why: string): StepFailedError {
  return new StepFailedError(
    `credential helper docker-credential-${helper} for registry ${registry}: ${why}`,
    "check it by hand: echo <registry> | docker-credential-<name> get; protocol retries with backoff",
  );
}

/** `docker-credential-<helper> get`; null when it has no credentials for the registry. */
export async function askHelper(helper: string, registry: string): Promise<RegistryAuth | null> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper))
    throw helperError(helper.slice(0, 40), registry, "the name in config.json is not a helper name");
  let result: Awaited<ReturnType<typeof run>>;
  try {
    result = await run([`docker-credential-${helper}`, "get"], {
      input: helperServerUrl(registry),
      // Both limits: a helper that prints a space a second never goes idle. Its answer is a small JSON.
      idleTimeoutMs: helperTimeoutMs(),
      timeoutMs: helperTimeoutMs(),
      maxStdoutBytes: 1024 * 1024,
      quiet: true,
    });
  } catch (error) {
    if (error instanceof MissingProgramError)
      throw helperError(helper, registry, `docker-credential-${helper} is not installed (config.json names it)`);
    throw helperError(helper, registry, errorMessage(error));
  }
  if (result.timedOut) throw helperError(helper, registry, `no answer within ${helperTimeoutMs() / 1000}s`);
  if (!result.ok) {
    if (/credentials not found/i.test(`${result.stdout}\n${result.stderr}`)) return null;
    // Its stderr may hold the secret: the exit code, and its first line with anything token-like masked.
    const first = result.stderr.trim().split("\n")[0]?.trim();
    throw helperError(helper, registry, `exit ${result.exitCode}${first ? `: ${redactLine(first)}` : ""}`);
  }
  if (result.stdout.trim() === "") throw helperError(helper, registry, "it printed nothing");
  let parsed: v.InferOutput<typeof HelperAnswerSchema>;
  try {
    parsed = v.parse(HelperAnswerSchema, JSON.parse(result.stdout));
  } catch {
    // Not even a part of what it printed goes into the message: it may be the secret.
    throw helperError(helper, registry, "it did not print credentials as JSON ({ServerURL, Username, Secret})");
  }
  return parsed.Username === "<token>"
    ? { kind: "identity", token: parsed.Secret }
    : { kind: "basic", username: parsed.Username, password: parsed.Secret };
}

function fromAuths(config: DockerConfig, registry: string): RegistryAuth | null {
  for (const key of registryKeys(registry)) {
    const entry = config.auths[key];
    if (entry?.identitytoken) return { kind: "identity", token: entry.identitytoken };
    if (!entry?.auth) continue;
    const [user, ...rest] = Buffer.from(entry.auth, "base64").toString("utf8").split(":");
    if (user && rest.length > 0) return { kind: "basic", username: user, password: rest.join(":") };
  }
  return null;
}

/** The credentials protocol uses for `registry`, and where they came from. Throws when a helper fails. */
export async function resolveRegistryAuth(registry: string, sources: CredentialSources): Promise<ResolvedAuth> {
  const given = resolveDockerCredentials(sources);
  if (given)
    return { auth: { kind: "basic", username: given.username, password: given.password }, source: given.source };
  const path = dockerConfigPath(sources.env);
  const config = readJsonFile(path, DockerConfigSchema, { auths: {}, credHelpers: {} });
  const perRegistry = registryKeys(registry)
    .map((key) => config.credHelpers[key])
    .find(Boolean);
  if (perRegistry) {
    // credHelpers decides for its registry, as in the docker CLI: a miss means anonymous.
    const auth = await askHelper(perRegistry, registry);
    return { auth, source: auth ? `credHelpers (${perRegistry}) in ${path}` : "anonymous" };
  }
  if (config.credsStore) {
    const auth = await askHelper(config.credsStore, registry);
    if (auth) return { auth, source: `credsStore (${config.credsStore}) in ${path}` };
  }
  const auth = fromAuths(config, registry);
  return { auth, source: auth ? `auths in ${path}` : "anonymous" };
}
