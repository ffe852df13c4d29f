import type { App } from "../app/app.ts";
import { ConfigError } from "../core/errors.ts";
import { compose, dockerQueryTimeoutMs } from "./docker.ts";

/** The services of the app's compose project, in compose's order (`compose config --services`). */
export async function composeServices(app: App): Promise<string[]> {
  // A query: bounded like the engine's (a compose that never answers must not hold a deploy's health gate).
  const result = await compose(app, ["config", "--services"], {
    quiet: true,
    spawn: { timeoutMs: dockerQueryTimeoutMs() },
  });
  return result.stdout
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

/** --service, else docker.service, else the only (or first) service of the compose file. */
export function pickService(
  flag: string | undefined,
  configured: string | undefined,
  services: readonly string[],
): string {
  const chosen = flag || configured || services[0];
  if (!chosen) {
    throw new ConfigError(
      "the compose file defines no services",
      "add a service to the compose file, or name one with --service or docker.service",
    );
  }
  return chosen;
}

/** nginx:logs reads the `nginx` service when there is one; --service still wins. */
export function pickNginxService(
  flag: string | undefined,
  configured: string | undefined,
  services: readonly string[],
): string {
  if (!flag && services.includes("nginx")) return "nginx";
  return pickService(flag, configured, services);
}

/** The service `exec` and `*:logs` act on; asks compose only when neither flag nor config names one. */
export async function resolveService(app: App, flag?: string): Promise<string> {
  const configured = app.config.docker?.service;
  if (flag || configured) return pickService(flag, configured, []);
  return pickService(undefined, undefined, await composeServices(app));
}

/** The service nginx:logs reads: --service, else `nginx` when compose has one, else as resolveService. */
export async function resolveNginxService(app: App, flag?: string): Promise<string> {
  if (flag) return flag;
  return pickNginxService(undefined, app.config.docker?.service, await composeServices(app));
}
