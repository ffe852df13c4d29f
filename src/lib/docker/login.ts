import { join } from "node:path";
import { parse } from "dotenv";
import type { App } from "../app/app.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import { MAX_REPO_FILE_BYTES, readRepoFile } from "../core/fs.ts";
import { log } from "../core/log.ts";
import { run, stepFailure } from "../core/spawn.ts";
import { DOCKER_HUB, parseImageRef } from "./parse/image-ref.ts";

export const USERNAME_VAR = "PROTOCOL_DOCKER_USERNAME";
export const PASSWORD_VAR = "PROTOCOL_DOCKER_PASSWORD";
/** The app's dotenv file (often linked in from the config repo by config:link). */
export const DOTENV_FILE = ".env";

export interface DockerCredentials {
  username: string;
  password: string;
  /** Where the password came from, for the log line (never the password itself). */
  source: string;
}

export interface CredentialSources {
  env: Record<string, string | undefined>;
  /** The parsed dotenv file, and its path for messages. */
  dotenv: { path: string; values: Record<string, string> } | null;
  config: { username?: string; password?: string };
}

/**
 * Registry credentials: the environment, then the dotenv file, then protocol.json (already warned
 * about by loadApp); each field from the first source that has it, as gitEnv does. null means
 * "leave it to docker's own credential store".
 */
export function resolveDockerCredentials({ env, dotenv, config }: CredentialSources): DockerCredentials | null {
  const candidates: Array<[string, string | undefined, string | undefined]> = [
    ["the environment", env[USERNAME_VAR], env[PASSWORD_VAR]],
    [dotenv?.path ?? DOTENV_FILE, dotenv?.values[USERNAME_VAR], dotenv?.values[PASSWORD_VAR]],
    ["protocol.json", config.username, config.password],
  ];
  // `||`, not `??`: an empty variable (as cloud-init templates leave them) means unset.
  const username = candidates.map(([, user]) => user).find(Boolean);
  const from = candidates.find(([, , password]) => password);
  if (!username || !from?.[2]) return null;
  return { username, password: from[2], source: from[0] };
}

/** The registry host `docker login` takes for an image; null for Docker Hub (its default). */
export function loginRegistry(image: string): string | null {
  let registry: string;
  try {
    registry = parseImageRef(image).registry;
  } catch (error) {
    throw new ConfigError(
      `docker.image: ${errorMessage(error)}`,
      "use a reference such as registry.example.com/team/app:latest",
    );
  }
  return registry === DOCKER_HUB ? null : registry;
}

export const DOTENV_HINT = `make ${DOTENV_FILE} a regular file of variables (in the app, or in the config repo and linked)`;

/** The app's .env (through its link into the config repo), parsed; null when there is none; refused when not a regular file or too big. */
export function readDotenv(dir: string): CredentialSources["dotenv"] {
  const path = join(dir, DOTENV_FILE);
  const bytes = readRepoFile(path, { cap: MAX_REPO_FILE_BYTES, hint: DOTENV_HINT });
  return bytes ? { path, values: parse(bytes) } : null;
}

/** The argv of `docker login`; the password is not in it: it goes through stdin. */
export function loginArgv(username: string, registry: string | null): string[] {
  return ["docker", "login", "--username", username, "--password-stdin", ...(registry ? [registry] : [])];
}

/** Log in to the image's registry when credentials are configured; otherwise docker's store is used. */
export async function loginForImage(app: App, image: string): Promise<boolean> {
  const credentials = resolveDockerCredentials({
    env: process.env,
    dotenv: readDotenv(app.dir),
    config: app.config.docker ?? {},
  });
  if (!credentials) {
    log.debug("no registry credentials configured; using docker's credential store");
    return false;
  }
  const registry = loginRegistry(image);
  log.info(
    `logging in to ${registry ?? "Docker Hub"} as ${credentials.username} (password from ${credentials.source})`,
  );
  // Through stdin, not argv: argv is visible in ps.
  const result = await run(loginArgv(credentials.username, registry), { input: credentials.password });
  if (!result.ok) {
    throw stepFailure(
      `docker login to ${registry ?? "Docker Hub"}`,
      result,
      `check ${USERNAME_VAR} / ${PASSWORD_VAR} (environment or ${DOTENV_FILE})`,
    );
  }
  return true;
}
