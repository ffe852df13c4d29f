/** doctor's check of a rollout: the node's id, and the status remote answering as the node would ask it. */

import type { App } from "../app/app.ts";
import { loopEnvOverlay } from "../app/loop-env.ts";
import { readNodeState, readRegistration } from "../app/state.ts";
import { errorMessage } from "../core/errors.ts";
import { withNodeEnv } from "../core/node-env.ts";
import { shortSha } from "../core/output.ts";
import { redactUrl } from "../core/validate.ts";
import type { Check } from "../host/doctor.ts";
import { machineName } from "./identity.ts";
import { fleetRef, scratchRepo } from "./refs.ts";
import { CONFLICT_FIX, conflictMessage, fleetTarget } from "./report.ts";
import { readOwnRef } from "./twins.ts";

/** Checked with the node id the loop uses (the environment start recorded), not the shell's. */
export function checkStatusRemote(app: App): Promise<Check> {
  const recorded = readRegistration(app.paths.registration)?.loopEnv;
  return recorded ? withNodeEnv(loopEnvOverlay(recorded), () => check(app)) : check(app);
}

async function check(app: App): Promise<Check> {
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
    const own = await readOwnRef(await scratchRepo(target.url), target.url, ref, machineName());
    const { commit } = own;
    // The loop's last push may have found the other machine's record, now overwritten by its own.
    const stored = readNodeState(app.paths.status).fleetConflict;
    const conflict = own.conflict ?? (stored?.node === target.node ? stored : null);
    const detail = `${redactUrl(target.url)} answers; node ${target.node} in ${target.env}: ${commit ? `record at ${shortSha(commit)}` : "no record yet (written after its next deploy)"}`;
    if (conflict)
      return { name, ok: false, detail: `${detail}; ${conflictMessage(target.node, conflict)}`, fix: CONFLICT_FIX };
    return { name, ok: true, detail };
  } catch (error) {
    return {
      name,
      ok: false,
      detail: `${errorMessage(error)} (later waves wait while the fleet record cannot be read)`,
      fix: "check the URL and this node's access to it: PROTOCOL_FLEET_GIT_USERNAME/PASSWORD over HTTPS, or a deploy key with write access (protocol key:generate <name> --repo <url>)",
    };
  }
}
