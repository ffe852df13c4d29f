import { ofetch } from "ofetch";
import type { App } from "../app/app.ts";
import { errorMessage, StepFailedError } from "../core/errors.ts";
import { discardBody } from "../core/http.ts";
import { log } from "../core/log.ts";
import { resolveService } from "../docker/compose-service.ts";
import { projectContainers } from "../docker/containers.ts";
import { type ComposeCli, compose } from "../docker/docker.ts";
import { judgeHealth } from "../docker/parse/inspect.ts";
import { type Settled, waitToSettle } from "./settle.ts";

export const DEFAULT_HEALTH_TIMEOUT_S = 120;
const PROBE_PAUSE_MS = 1_000;

type Health = NonNullable<NonNullable<App["config"]["deploy"]>["health"]>;
type HttpProbe = NonNullable<Health["http"]> extends infer T ? (T extends (infer U)[] ? U : T) : never;
type CommandProbe = NonNullable<Health["command"]> extends infer T ? (T extends (infer U)[] ? U : T) : never;

const many = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

export function healthConfig(app: App): Health | null {
  return app.config.deploy?.health ?? null;
}

/** `up` arguments: compose v2 waits for the healthchecks itself when a health gate is configured. */
export function upArgs(app: App, cli: ComposeCli): string[] {
  const health = healthConfig(app);
  const wait =
    health && cli.version === 2 ? ["--wait", "--wait-timeout", String(health.timeout ?? DEFAULT_HEALTH_TIMEOUT_S)] : [];
  return ["up", "-d", "--remove-orphans", ...wait];
}

/** Compose v1 has no --wait: poll the project's containers through docker inspect. */
async function waitForContainers(app: App, deadline: number): Promise<void> {
  for (;;) {
    const { verdict, detail } = judgeHealth(await projectContainers(app));
    if (verdict === "healthy") return;
    if (verdict === "unhealthy") throw new StepFailedError(`health check failed: ${detail}`);
    if (Date.now() > deadline) throw new StepFailedError(`health check timed out: ${detail}`);
    await Bun.sleep(PROBE_PAUSE_MS);
  }
}

async function retry(
  what: string,
  retries: number,
  deadline: number,
  attempt: () => Promise<string | null>,
): Promise<void> {
  let last = "";
  for (let i = 0; i <= retries; i++) {
    const failure = await attempt().catch((error) => errorMessage(error));
    if (failure === null) return;
    last = failure;
    if (Date.now() > deadline) break;
    await Bun.sleep(PROBE_PAUSE_MS);
  }
  throw new StepFailedError(`health check failed: ${what}: ${last}`);
}

async function httpProbe(probe: HttpProbe, deadline: number): Promise<void> {
  const expected = probe.status ?? 200;
  await retry(`GET ${probe.url}`, probe.retries ?? 10, deadline, async () => {
    const response = await ofetch.raw(probe.url, {
      ignoreResponseError: true,
      retry: 0,
      timeout: (probe.timeout ?? 5) * 1000,
      responseType: "stream",
    });
    // Only the status counts: the body is never read (an endless one would fill memory).
    await discardBody(response);
    return response.status === expected ? null : `status ${response.status}, expected ${expected}`;
  });
}

async function commandProbe(app: App, probe: CommandProbe, service: string, deadline: number): Promise<void> {
  await retry(`${probe.run.join(" ")} in ${service}`, probe.retries ?? 10, deadline, async () => {
    // The gate's deadline bounds each try too: a probe stuck inside the container is killed, group and all.
    const timeoutMs = Math.max(1_000, deadline - Date.now());
    await compose(app, ["exec", "-T", service, ...probe.run], { spawn: { timeoutMs, group: true } });
    return null;
  });
}

/**
 * After `up`: the deploy passes only when every configured check passes within deploy.health.timeout.
 * No deploy.health → nothing to wait for.
 */
export async function checkHealth(app: App, cli: ComposeCli): Promise<void> {
  const health = healthConfig(app);
  if (!health) return;
  const seconds = health.timeout ?? DEFAULT_HEALTH_TIMEOUT_S;
  const deadline = Date.now() + seconds * 1000;
  log.info(`waiting up to ${seconds}s for the health checks`);
  if (cli.version === 1) await waitForContainers(app, deadline);
  for (const probe of many(health.http)) await httpProbe(probe, deadline);
  for (const probe of many(health.command))
    await commandProbe(app, probe, probe.service ?? (await resolveService(app)), deadline);
  log.info("health checks passed");
}

/**
 * The gate after `up`: deploy.health's checks when there are any, else the settle time. Returns
 * the services running and finished at the end (with deploy.health: those running after it).
 */
export async function waitForGate(app: App, cli: ComposeCli): Promise<Settled> {
  if (!healthConfig(app)) return waitToSettle(app);
  await checkHealth(app, cli);
  // deploy.health's own probes passed; the services then are what later passes keep running.
  return waitToSettle(app, 0);
}
