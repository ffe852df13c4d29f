/** Which status remote and environment a fleet command reads or writes: flags first, the app's protocol.json second. */

import { loadApp } from "../app/app.ts";
import { effectiveEnv } from "../config-repo/env.ts";
import { ConfigError, UsageError } from "../core/errors.ts";
import { branchNameProblem } from "../core/refname.ts";
import { hasControlChars } from "../core/validate.ts";
import type { ProtocolJson } from "../schema/protocol-json.ts";
import { DEFAULT_FLEET_ENV } from "./report.ts";

export interface FleetLocation {
  url: string;
  /** null: every environment (fleet without --env, away from any app). */
  env: string | null;
  rollout: ProtocolJson["rollout"] | null;
}

export function fleetLocation(options: { dir?: string; remote?: string; env?: string }): FleetLocation {
  if (options.env !== undefined && branchNameProblem(options.env))
    throw new UsageError(
      `--env ${JSON.stringify(options.env)} ${branchNameProblem(options.env)}`,
      "name an environment (a config repo branch)",
    );
  if (options.remote !== undefined) {
    if (hasControlChars(options.remote) || options.remote.trim() === "")
      throw new UsageError(
        "--remote must be a git URL (it is empty or contains a control character)",
        "e.g. --remote git@github.com:acme/shop-fleet.git",
      );
    return { url: options.remote, env: options.env ?? null, rollout: null };
  }
  const app = loadApp(options.dir);
  const rollout = app.config.rollout ?? null;
  if (!rollout?.statusRemote)
    throw new ConfigError(
      `${app.configPath ?? "protocol.json"} has no rollout.statusRemote`,
      "add one (README: Rolling out to a fleet), or pass --remote <url>",
    );
  return { url: rollout.statusRemote, env: options.env ?? effectiveEnv(app) ?? DEFAULT_FLEET_ENV, rollout };
}

/** The environment a write (freeze, release) goes to: never "all of them" by accident. */
export function envToWrite(location: FleetLocation): string {
  if (!location.env) throw new UsageError("which environment? pass --env <env>", "e.g. --env production");
  return location.env;
}
