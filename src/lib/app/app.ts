import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import * as v from "valibot";
import { DEFAULT_INTERVAL } from "../core/backoff.ts";
import { ConfigError, PreconditionError } from "../core/errors.ts";
import { readRepoFile } from "../core/fs.ts";
import { log } from "../core/log.ts";
import { type AppPaths, appPaths } from "../core/paths.ts";
import {
  describeIssues,
  normalizeOriginal,
  type ProtocolJson,
  ProtocolJsonSchema,
  unknownKeys,
} from "../schema/protocol-json.ts";
import { resolveProject } from "./project.ts";
import { readNodeState } from "./state.ts";

export const PROTOCOL_JSON = "protocol.json";
/** protocol.json is a few hundred bytes; anything past this is refused unread (it is read on every poll). */
export const MAX_PROTOCOL_JSON_BYTES = 1024 * 1024;

export const PROTOCOL_JSON_SIZE_HINT = "it should hold a few keys: see the protocol.json section of the README";

export interface App {
  dir: string;
  name: string;
  /** Path of protocol.json, or null when the app has none (all defaults). */
  configPath: string | null;
  config: ProtocolJson;
  paths: AppPaths;
  /** The compose project its containers run under (app/project.ts): docker/ is handed it, never reads state. */
  project: string;
}

/** The app dir: --dir, else the current dir, walking up to the dir holding protocol.json or .git. */
export function resolveAppDir(dirArg?: string, cwd = process.cwd()): string {
  if (dirArg) {
    const dir = resolve(cwd, dirArg);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new PreconditionError(`app directory ${dir} does not exist`, "check the path given to --dir");
    }
    return dir;
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, PROTOCOL_JSON)) || existsSync(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) break;
  }
  throw new PreconditionError(
    `no app found: neither protocol.json nor .git in ${resolve(cwd)} or above`,
    "run protocol inside the app's working copy, or pass --dir <path>",
  );
}

/** Warnings already given by this process (the loop parses protocol.json on every deploy). */
const warned = new Set<string>();

export function parseProtocolJson(text: string, path: string): ProtocolJson {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `${path} is not valid JSON: ${(error as Error).message}`,
      "fix the syntax, e.g. with: jq . protocol.json",
    );
  }
  if (Array.isArray(data))
    throw new ConfigError(
      `${path} is invalid: (top level): must be an object, not a list`,
      "see the protocol.json section of the README",
    );
  // The original tool's files: empty strings mean "not set"; keys protocol does not use, one warning.
  const isObject = typeof data === "object" && data !== null;
  const original = isObject ? normalizeOriginal(data as Record<string, unknown>) : data;
  const unused = unknownKeys(original);
  if (unused.length > 0 && !warned.has(`${path}:unknown`)) {
    warned.add(`${path}:unknown`);
    log.warn(`${path}: keys protocol does not use, ignored: ${unused.join(", ")}`);
  }
  const result = v.safeParse(ProtocolJsonSchema, original);
  if (!result.success) {
    throw new ConfigError(
      `${path} is invalid: ${describeIssues(result.issues)}`,
      "fix that key (see the protocol.json section of the README)",
    );
  }
  return result.output;
}

function warnAboutPasswords(config: ProtocolJson, path: string): void {
  for (const key of ["git.password", "docker.password"] as const) {
    const [group, field] = key.split(".") as ["git" | "docker", "password"];
    if (config[group]?.[field] && !warned.has(`${path}:${key}`)) {
      warned.add(`${path}:${key}`);
      log.warn(`${path} holds ${key}: protocol.json is committed, so move it to the environment or the config repo`);
    }
  }
}

export function loadApp(dirArg?: string): App {
  const dir = resolveAppDir(dirArg);
  const path = join(dir, PROTOCOL_JSON);
  const text =
    readRepoFile(path, { cap: MAX_PROTOCOL_JSON_BYTES, hint: PROTOCOL_JSON_SIZE_HINT })?.toString("utf8") ?? null;
  const config = text === null ? parseProtocolJson("{}", path) : parseProtocolJson(text, path);
  if (text !== null) warnAboutPasswords(config, path);
  return withPaths(dir, config.name ?? basename(dir), text === null ? null : path, config);
}

/** The app's paths and compose project, from its state dir. */
function withPaths(dir: string, name: string, configPath: string | null, config: ProtocolJson): App {
  const paths = appPaths(dir);
  return {
    dir,
    name,
    configPath,
    config,
    paths,
    project: resolveProject(config, name, dir, readNodeState(paths.status)),
  };
}

/**
 * The app even when its protocol.json is broken (status must still say what it knows): the
 * defaults in place of the file, and the ConfigError to report after.
 */
export function loadAppTolerant(dirArg?: string): { app: App; error: ConfigError | null } {
  // status --dir <a dir that is no app> answers as status inside it does: no app there (exit 4),
  // not a node that "follows origin/?".
  if (dirArg) {
    const dir = resolveAppDir(dirArg);
    if (!existsSync(join(dir, PROTOCOL_JSON)) && !existsSync(join(dir, ".git")))
      throw new PreconditionError(
        `no app found: neither protocol.json nor .git in ${dir}`,
        "pass the app's working copy to --dir (the directory that holds .git or protocol.json)",
      );
  }
  try {
    return { app: loadApp(dirArg), error: null };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { app: appWithDefaults(resolveAppDir(dirArg)), error };
  }
}

/** The app in `dir` with protocol.json's defaults in place of the file (a broken one is reported by the caller). */
export function appWithDefaults(dir: string): App {
  return withPaths(dir, basename(dir), join(dir, PROTOCOL_JSON), parseProtocolJson("{}", join(dir, PROTOCOL_JSON)));
}

/** The poll interval in seconds: --interval, else protocol.json's git.interval (re-read after each deploy), else the default. */
export function pollInterval(app: App, override?: number): number {
  return override ?? app.config.git?.interval ?? DEFAULT_INTERVAL;
}

export function remoteName(app: App): string {
  return app.config.git?.remotename ?? "origin";
}
