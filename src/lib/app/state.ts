import { appendFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { diskFullOr } from "../core/errors.ts";
import { readTextOrNull, writeJsonAtomic } from "../core/fs.ts";
import { readJsonFile } from "../core/json-file.ts";
import { log } from "../core/log.ts";
import { appsRoot } from "../core/paths.ts";
import {
  type DeployRecord,
  DeployRecordSchema,
  type NodeState,
  NodeStateSchema,
  type Registration,
  RegistrationSchema,
} from "../schema/state.ts";

/** A state file is ours to rewrite: an unreadable one must not stop the node. */
function readStateFile<T>(path: string, schema: v.GenericSchema<unknown, T>, fallback: T): T {
  return readJsonFile(path, schema, fallback, () =>
    log.warn(`ignoring unreadable state file ${path}; it will be rewritten`),
  );
}

export function readNodeState(path: string): NodeState {
  return readStateFile(path, NodeStateSchema, v.parse(NodeStateSchema, {}));
}

/** `durable: false` skips the fsync, for the per-poll record that a later poll rewrites anyway. */
export function writeNodeState(path: string, state: NodeState, durable = true): void {
  writeJsonAtomic(path, state, durable);
}

export function updateNodeState(path: string, change: Partial<NodeState>): NodeState {
  const next = { ...readNodeState(path), ...change };
  writeNodeState(path, next);
  return next;
}

/** One JSON line per deploy; appended, so a crash mid-write loses at most that line. */
export function appendDeploy(path: string, record: v.InferInput<typeof DeployRecordSchema>): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, `${JSON.stringify(record)}\n`);
  } catch (error) {
    throw diskFullOr(error, dirname(path));
  }
}

export function readDeploys(path: string): DeployRecord[] {
  const text = readTextOrNull(path) ?? "";
  const records: DeployRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const parsed = v.safeParse(DeployRecordSchema, JSON.parse(line));
      if (parsed.success) records.push(parsed.output);
    } catch {
      // a torn last line after a crash: skip it
    }
  }
  return records;
}

export function readRegistration(path: string): Registration | null {
  return readStateFile(path, v.nullable(RegistrationSchema), null);
}

/** 0600: its loopEnv may hold a proxy URL with credentials (HTTPS_PROXY=http://user:pass@…). */
export function writeRegistration(path: string, registration: Registration): void {
  writeJsonAtomic(path, registration, true, 0o600);
}

/** Every app this machine has run `start` for. */
/** Every app.json under the state dir's apps. */
function registrationPaths(home?: string): string[] {
  const root = appsRoot(home);
  try {
    return readdirSync(root).map((key) => join(root, key, "app.json"));
  } catch {
    return [];
  }
}

export function listRegistrations(home?: string): Registration[] {
  return registrationPaths(home)
    .map((path) => readRegistration(path))
    .filter((r): r is Registration => r !== null)
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

/** Registration files that exist but cannot be read (torn by a crash, edited by hand): nodes restart cannot start. */
export function unreadableRegistrations(home?: string): string[] {
  return registrationPaths(home)
    .filter((path) => existsSync(path) && readRegistration(path) === null)
    .sort();
}
