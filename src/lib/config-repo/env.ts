import { join } from "node:path";
import * as v from "valibot";
import type { App } from "../app/app.ts";
import { UsageError } from "../core/errors.ts";
import { writeJsonAtomic } from "../core/fs.ts";
import { readJsonFile } from "../core/json-file.ts";
import { stateHome } from "../core/paths.ts";

/** Names of development environments: start there links config and runs compose, but leaves git alone. */
const DEV_NAMES = ["localhost", "local", "dev", "development"];

export function isDevEnv(env: string): boolean {
  const name = env.toLowerCase();
  return DEV_NAMES.includes(name) || name.includes("localhost");
}

/** An environment is a branch name: letters, digits, '.', '_', '-', '/' (no '..', no leading '-'). */
export function assertEnvName(env: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(env) || env.includes("..") || env.endsWith("/") || env.endsWith(".lock")) {
    throw new UsageError(
      `${JSON.stringify(env)} is not a valid environment name`,
      "use letters, digits, '.', '_', '-' (it becomes a branch name)",
    );
  }
  return env;
}

const MachineSchema = v.object({
  env: v.optional(v.nullable(v.string()), null),
  /** Set once start has said how to set an environment, so it says it once. */
  hinted: v.optional(v.boolean(), false),
  updatedAt: v.optional(v.string()),
});

export type MachineSettings = v.InferOutput<typeof MachineSchema>;

export function machinePath(home = stateHome()): string {
  return join(home, "machine.json");
}

/** This machine's settings; an unreadable file is ours to rewrite. */
export function readMachine(home?: string): MachineSettings {
  return readJsonFile(machinePath(home), MachineSchema, v.parse(MachineSchema, {}));
}

/** This machine's environment (config:env), or null when none is set. */
export function readMachineEnv(home?: string): string | null {
  return readMachine(home).env;
}

export function writeMachine(change: Partial<MachineSettings>, home?: string): MachineSettings {
  const next = { ...readMachine(home), ...change, updatedAt: new Date().toISOString() };
  writeJsonAtomic(machinePath(home), next);
  return next;
}

const AppEnvSchema = v.object({ env: v.nullable(v.string()) });

/** The environment `start <env>` gave this app, in the app's state dir; null when it was given none. */
export function readAppEnv(app: App): string | null {
  return readJsonFile(join(app.paths.root, "env.json"), AppEnvSchema, { env: null }).env;
}

export function writeAppEnv(app: App, env: string): void {
  writeJsonAtomic(join(app.paths.root, "env.json"), { env, updatedAt: new Date().toISOString() });
}

/**
 * The environment this app runs in: its own (from `start <env>`), else this machine's default
 * (`config:env`). One app's start never changes another app's environment.
 */
export function effectiveEnv(app: App): string | null {
  return readAppEnv(app) ?? readMachineEnv();
}
