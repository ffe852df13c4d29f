/**
 * How long a pass can run with every limit it has, added up: past it, something escaped a limit and
 * `status` calls the pass stuck (it no longer passes for "up to date" while nothing moves).
 */
import type { App } from "../app/app.ts";
import { DEFAULT_HEALTH_TIMEOUT_S } from "../deploy/health.ts";
import { DEFAULT_HOOK_TIMEOUT_S, HOOK_POINTS } from "../deploy/hooks.ts";
import { DEFAULT_SETTLE_S, SETTLE_HEALTH_GRACE_S } from "../deploy/settle.ts";
import { composeTotalTimeoutMs, dockerQueryTimeoutMs } from "../docker/docker.ts";
import { networkTotalTimeoutMs } from "../git/git.ts";

/** The questions to the engine a pass may ask (ps, inspect, start, logs), each under its own limit. */
const ENGINE_QUESTIONS = 10;

export function passBoundSeconds(app: App): number {
  const deploy = app.config.deploy;
  const hooks = HOOK_POINTS.flatMap((point) => deploy?.hooks?.[point] ?? []).reduce(
    (sum, step) => sum + (step.timeout ?? DEFAULT_HOOK_TIMEOUT_S),
    0,
  );
  // ls-remote and fetch of the app, the config repo's fetch; the incoming pull, up, a rollback's up.
  const network = 3 * (networkTotalTimeoutMs() / 1000);
  const compose = 3 * (composeTotalTimeoutMs() / 1000);
  const gate = (deploy?.health?.timeout ?? DEFAULT_HEALTH_TIMEOUT_S) + (deploy?.settleSeconds ?? DEFAULT_SETTLE_S);
  const engine = ENGINE_QUESTIONS * (dockerQueryTimeoutMs() / 1000);
  return Math.ceil(network + compose + hooks + gate + SETTLE_HEALTH_GRACE_S + engine);
}
