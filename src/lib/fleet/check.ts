/** doctor's check of a rollout: the node's id, and the status remote answering as the node would ask it. */

import type { App } from "../app/app.ts";
import { errorMessage } from "../core/errors.ts";
import { shortSha } from "../core/output.ts";
import { redactUrl } from "../core/validate.ts";
import type { Check } from "../host/doctor.ts";
import { fleetRef, listRefs, scratchRepo } from "./refs.ts";
import { fleetTarget } from "./report.ts";

export async function checkStatusRemote(app: App): Promise<Check> {
  const name = "status remote";
  if (!app.config.rollout?.statusRemote)
    return { name, ok: true, skipped: true, detail: "no rollout.statusRemote in protocol.json" };
  let target: ReturnType<typeof fleetTarget>;
  try {
    target = fleetTarget(app);
  } catch (error) {
    return { name, ok: false, detail: errorMessage(error), fix: "set PROTOCOL_NODE_ID to a plain name, or unset it" };
  }
  if (!target) return { name, ok: true, skipped: true, detail: "no rollout.statusRemote" };
  const ref = fleetRef(target.env, target.node);
  try {
    const found = (await listRefs(await scratchRepo(target.url), target.url, [ref])).get(ref);
    return {
      name,
      ok: true,
      detail: `${redactUrl(target.url)} answers; node ${target.node} in ${target.env}: ${found ? `record at ${shortSha(found)}` : "no record yet (written after its next deploy)"}`,
    };
  } catch (error) {
    return {
      name,
      ok: false,
      detail: `${errorMessage(error)} (later waves wait while the fleet record cannot be read)`,
      fix: "check the URL and this node's access to it: PROTOCOL_FLEET_GIT_USERNAME/PASSWORD over HTTPS, or a deploy key with write access (protocol key:generate <name> --repo <url>)",
    };
  }
}
