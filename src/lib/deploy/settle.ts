/**
 * The gate a deploy passes when protocol.json has no deploy.health: every container the deploy
 * left must stay running for deploy.settleSeconds (counted from its own StartedAt, so a container
 * `up` did not touch passes at once), and be healthy where its image declares a HEALTHCHECK. A
 * container that exits 0 is a one-shot that finished (a migration service); any other exit, a
 * restart by its restart policy, or `unhealthy` fails the deploy like a failed health check.
 */

import type { App } from "../app/app.ts";
import { StepFailedError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { containerLogTail, projectContainers } from "../docker/containers.ts";
import type { ContainerInfo } from "../docker/parse/inspect.ts";

export const DEFAULT_SETTLE_S = 10;
/** How long a HEALTHCHECK may stay `starting` past the settle time before the deploy fails. */
export const SETTLE_HEALTH_GRACE_S = 120;
const LOOK_EVERY_MS = 500;

export interface Settled {
  /** The services running at the end of the gate: what later passes keep running. */
  running: string[];
  /** The services whose containers exited 0: one-shots, never restarted. */
  completed: string[];
}

export function settleSeconds(app: App): number {
  return app.config.deploy?.settleSeconds ?? DEFAULT_SETTLE_S;
}

export type Verdict =
  | { kind: "failed"; container: ContainerInfo; why: string }
  | { kind: "pending"; why: string }
  | null;

/**
 * One look at the containers: the first that failed, else the first still settling, else null
 * (settled). Pure: `now` and the restart counts seen when the gate began are given.
 */
export function judgeSettle(
  containers: ContainerInfo[],
  seconds: number,
  now: number,
  restartsAtStart: ReadonlyMap<string, number>,
): Verdict {
  let pending: Verdict = null;
  for (const c of containers) {
    if (!c.running && c.status === "exited" && c.exitCode === 0) continue;
    if (c.status === "restarting" || c.restartCount > (restartsAtStart.get(c.id) ?? c.restartCount))
      return { kind: "failed", container: c, why: `${c.service} keeps restarting (it dies after it starts)` };
    if (!c.running && c.status !== "created")
      return { kind: "failed", container: c, why: `${c.service} ${c.status} (code ${c.exitCode})` };
    if (c.health === "unhealthy") return { kind: "failed", container: c, why: `${c.service} is unhealthy` };
    if (c.status === "created") pending ??= { kind: "pending", why: `${c.service} was created but not started` };
    else if (c.health === "starting") pending ??= { kind: "pending", why: `${c.service}'s healthcheck is starting` };
    else if (c.startedAt !== null && now - c.startedAt < seconds * 1000)
      pending ??= {
        kind: "pending",
        why: `${c.service} has run ${((now - c.startedAt) / 1000).toFixed(1)}s of ${seconds}s`,
      };
  }
  return pending;
}

/**
 * The services running at the end of the gate, and the one-shots: a service is a finished one-shot
 * only when none of its containers runs and all of them exited 0 (a replica that exited beside a
 * running one does not make the service a one-shot).
 */
export function settledServices(containers: ContainerInfo[]): Settled {
  const names = [...new Set(containers.map((c) => c.service))].sort();
  const own = (service: string) => containers.filter((c) => c.service === service);
  return {
    running: names.filter((service) => own(service).some((c) => c.running)),
    completed: names.filter((service) =>
      own(service).every((c) => !c.running && c.status === "exited" && c.exitCode === 0),
    ),
  };
}

/** Wait until the project's containers have settled; throws StepFailedError naming the one that did not. */
export async function waitToSettle(app: App, seconds = settleSeconds(app)): Promise<Settled> {
  const began = Date.now();
  const deadline = began + (seconds + SETTLE_HEALTH_GRACE_S) * 1000;
  let restartsAtStart: Map<string, number> | null = null;
  if (seconds > 0) log.info(`waiting ${seconds}s for the services to settle (deploy.settleSeconds)`);
  for (;;) {
    const containers = await projectContainers(app);
    restartsAtStart ??= new Map(containers.map((c) => [c.id, c.restartCount]));
    const now = Date.now();
    const verdict = judgeSettle(containers, seconds, now, restartsAtStart);
    if (verdict?.kind === "failed") {
      const said = await containerLogTail(verdict.container.id).catch(() => "");
      throw new StepFailedError(
        `${verdict.why}${said ? `: ${said}` : ""}`,
        "see protocol docker:logs; set deploy.health for a gate of your own, or deploy.settleSeconds",
      );
    }
    if (verdict === null) return settledServices(containers);
    if (now > deadline) throw new StepFailedError(`the services did not settle: ${verdict.why}`);
    await Bun.sleep(LOOK_EVERY_MS);
  }
}
