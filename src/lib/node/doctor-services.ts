/** doctor's services check: the deployed commit's services running, none crash-looping. */
import type { App } from "../app/app.ts";
import { readNodeState } from "../app/state.ts";
import { errorMessage } from "../core/errors.ts";
import { shellQuote } from "../core/shell.ts";
import type { Check } from "../host/doctor.ts";
import type { NodeState } from "../schema/state.ts";
import { describeDown } from "./heal.ts";
import { observeServices } from "./observe.ts";
import type { ServiceState } from "./plan.ts";

/** Pure: what doctor says of the deployed commit's services as the engine shows them. */
export function judgeServices(state: NodeState, services: ServiceState[], dir: string): Check {
  const name = "services";
  const start = `protocol start --dir ${shellQuote(dir)}`;
  const loop = state.heal.crashLoop;
  if (loop && loop.commit === state.deployedCommit)
    return {
      name,
      ok: false,
      detail: `${loop.services.join(", ")} crash-looping since ${loop.since} (${loop.restarts} restarts): left alone until the next commit, image or start`,
      fix: `read why: protocol docker:logs --dir ${shellQuote(dir)}; push a fix, or ${start} to try again`,
    };
  const completed = new Set(state.services?.completed ?? []);
  const down = services.filter((s) => s.state !== "running" && !completed.has(s.service));
  if (down.length > 0)
    return {
      name,
      ok: false,
      detail: `not running: ${down.map((s) => `${s.service} ${describeDown(s)}`).join(", ")}`,
      fix: `the loop starts them again at its next poll; ${start} does it now`,
    };
  const unhealthy = services.filter((s) => s.health === "unhealthy");
  if (unhealthy.length > 0)
    return {
      name,
      ok: false,
      detail: `unhealthy: ${unhealthy.map((s) => s.service).join(", ")}`,
      fix: `protocol docker:logs --dir ${shellQuote(dir)}`,
    };
  return { name, ok: true, detail: `${services.length} running` };
}

export async function checkServices(app: App): Promise<Check> {
  const state = readNodeState(app.paths.status);
  if (!state.deployedCommit) return { name: "services", ok: true, skipped: true, detail: "nothing deployed here yet" };
  const seen = await observeServices(app, state.services).catch((error) => ({ error: errorMessage(error) }));
  if ("error" in seen)
    return { name: "services", ok: false, detail: `the engine cannot say: ${seen.error}`, fix: "docker info" };
  if (seen.services.length === 0)
    return { name: "services", ok: true, skipped: true, detail: "no compose services in this app" };
  return judgeServices(state, seen.services, app.dir);
}
