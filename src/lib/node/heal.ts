/**
 * The heal part of a pass's decision, pure like decide(): which of the deployed commit's services
 * are down, and for each whether to start it, wait out its backoff, or mark it crash-looping.
 */
import type { Observed, Policy, ServiceState, Step } from "./plan.ts";

/** States in which a service is down and a heal starts it again. */
const DOWN = new Set<ServiceState["state"]>(["exited", "dead", "created", "missing"]);

/** docker.heal's defaults: the first wait, the restarts allowed, and the window they are counted in. */
export const HEAL_DEFAULTS = { backoffSeconds: 10, maxRestarts: 5, windowSeconds: 600 };

/** The longest wait between two restarts of a service that keeps dying. */
export const MAX_HEAL_BACKOFF_S = 300;

/** How a service that is down is named in the log: "exited (code 137)", "missing". */
export function describeDown(service: ServiceState): string {
  return service.state === "exited" && service.exitCode !== null ? `exited (code ${service.exitCode})` : service.state;
}

/**
 * The seconds a restart waits after the one before it, given the restarts already in the window:
 * the first is at once; the k-th waits backoff·2^(k−1) (2×, 4×, 8×… the backoff), at most 5 minutes.
 */
export function healBackoffSeconds(backoffSeconds: number, restartsInWindow: number): number {
  if (restartsInWindow === 0) return 0;
  return Math.min(backoffSeconds * 2 ** restartsInWindow, MAX_HEAL_BACKOFF_S);
}

/** States `up` is needed for (no container to start): the working copy's compose files bring them back. */
const NEEDS_UP = new Set<ServiceState["state"]>(["missing", "dead"]);

/**
 * The deployed commit's services that are down, and what to do about each: start it (its stopped
 * containers as they are, with `docker start`; a missing one through compose, which reads the working
 * copy and so only when it is on the deployed commit), wait out its backoff, or mark it
 * crash-looping. Each service has its own restarts and backoff; a crash-looping one is left alone,
 * the others are still healed.
 */
export function planHeal(o: Observed, p: Policy): { steps: Step[]; waitingUntil: number | null; note: string | null } {
  const none = { steps: [], waitingUntil: null, note: null };
  if (!p.keepRunning || !o.compose || !o.containers || "error" in o.containers) return none;
  const deployed = o.recorded.deployedCommit;
  if (deployed === null) return none;
  const onDeployed = o.head === deployed;
  const completed = new Set(o.recorded.services?.completed ?? []);
  const loop = o.recorded.heal.crashLoop;
  const marked = new Set(loop && loop.commit === deployed && p.start !== "start" ? loop.services : []);
  const down = o.containers.services.filter(
    (s) =>
      DOWN.has(s.state) &&
      !completed.has(s.service) &&
      !s.optOut &&
      !marked.has(s.service) &&
      (onDeployed || (!NEEDS_UP.has(s.state) && s.ids.length > 0)),
  );
  // A node an older protocol deployed has no list of its services: with no container at all,
  // start and restart bring the deployed commit up (the @reboot promise).
  const nothing = onDeployed && o.recorded.services === null && o.containers.services.length === 0 && p.start !== null;
  const note = marked.size > 0 ? `${[...marked].join(", ")} crash-looping since ${loop?.since}: left alone` : null;
  if (down.length === 0 && !nothing) return { ...none, note };
  const windowMs = p.heal.windowSeconds * 1000;
  const ready: ServiceState[] = [];
  const looping: string[] = [];
  let most = 0;
  let waitingUntil: number | null = null;
  for (const service of down) {
    const restarts =
      p.start === "start"
        ? []
        : (o.recorded.heal.restarts[service.service] ?? []).filter((at) => o.now - at < windowMs);
    most = Math.max(most, restarts.length);
    if (p.start === null && restarts.length >= p.heal.maxRestarts) {
      looping.push(service.service);
      continue;
    }
    const due =
      p.start === null && restarts.length > 0
        ? restarts.at(-1)! + healBackoffSeconds(p.heal.backoffSeconds, restarts.length) * 1000
        : 0;
    if (o.now < due) waitingUntil = Math.min(waitingUntil ?? due, due);
    else ready.push(service);
  }
  const steps: Step[] = [];
  if (ready.length > 0 || nothing) {
    const why = nothing
      ? "no container of the deployed commit: bringing it up"
      : ready.map((s) => `${s.service} ${describeDown(s)}`).join(", ");
    steps.push({ kind: "heal", why, services: ready });
  }
  if (looping.length > 0)
    steps.push({
      kind: "crash-loop",
      why: `${looping.join(", ")} stopped again after ${most} restarts in ${p.heal.windowSeconds}s`,
      services: looping,
      restarts: most,
    });
  return { steps, waitingUntil, note };
}

/** The heal of the current commit alone: for a pass whose deploy could not even start (nothing changed). */
export function healOnly(o: Observed, p: Policy): Step[] {
  return planHeal(o, p).steps;
}
