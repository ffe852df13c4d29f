/**
 * The rollout gate, asked before a node moves to a new commit: wait for the node's wave, then read
 * the fleet record once and hold a commit another node failed, or any commit while the environment
 * is frozen. Idle polls never get here, and a waiting node reads nothing from the status remote.
 * It writes nothing: what to keep (the rollout's state, a record for the fleet, a notification) is
 * returned for the pass's executor to record.
 */

import type { App } from "../app/app.ts";
import { errorMessage } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import { type GitContext, isAncestor } from "../git/git.ts";
import type { RolloutState } from "../schema/fleet.ts";
import type { NodeState } from "../schema/state.ts";
import { nodeIdentity } from "./identity.ts";
import { type Hold, holdFor, readFleet } from "./records.ts";
import { fleetTarget, type Report } from "./report.ts";
import { dueAtMs, recheckMs, wavePlace } from "./waves.ts";

export interface Gate {
  result: "waiting" | "held";
  message: string;
  hint: string;
}

export interface GateInput {
  head: string | null;
  remoteCommit: string;
  ctx: GitContext;
  intervalSeconds: number;
  /** The clock (tests pass their own). */
  now?: number;
}

export interface GateCheck {
  /** null: go on and deploy. */
  gate: Gate | null;
  /** The rollout state to keep, when it changed. */
  rollout: RolloutState | null;
  /** A record to queue for the status remote. */
  report: Report | null;
  /** A hold to tell the webhook about (once per commit). */
  held: { to: string; error: string } | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

function held(hold: NonNullable<RolloutState["hold"]>): Gate {
  if (hold.kind === "unreadable")
    return {
      result: "waiting",
      message: hold.message,
      hint: "check rollout.statusRemote and this node's access to it; retried, the node keeps serving",
    };
  return {
    result: "held",
    message: `held: ${hold.message}`,
    hint:
      hold.kind === "freeze"
        ? "protocol rollout:unfreeze lifts it; the node deploys the next commit then"
        : "push a fix (the node deploys the next commit), or protocol rollout:release <sha> to deploy this one",
  };
}

/** gate null: go on and deploy. Otherwise the node stays where it is and says why. */
export async function rolloutGate(app: App, state: NodeState, input: GateInput): Promise<GateCheck> {
  const out: GateCheck = { gate: null, rollout: null, report: null, held: null };
  const rollout = app.config.rollout;
  if (!rollout) return out;
  const commit = input.remoteCommit;
  // Going back to a commit this node already ran (the remote rewound) is never staged.
  if (input.head && (await isAncestor(input.ctx, commit, input.head))) return out;
  const id = nodeIdentity().id;
  const place = wavePlace(id, rollout);
  const now = input.now ?? Date.now();
  const previous = state.rollout?.commit === commit ? state.rollout : null;
  const firstSeen = previous ? Date.parse(previous.firstSeenAt) : now;
  const dueAt = dueAtMs(firstSeen, place, rollout);
  let entry: RolloutState = {
    commit,
    firstSeenAt: iso(firstSeen),
    wave: place.wave,
    dueAt: iso(dueAt),
    hold: previous?.hold ?? null,
    checkedAt: previous?.checkedAt ?? null,
    notified: previous?.notified ?? false,
  };
  const save = () => {
    out.rollout = entry;
  };
  if (!previous) {
    save();
    if (place.wave > 1) out.report = { commit, running: state.deployedCommit, result: "waiting", dueAt: iso(dueAt) };
  }
  if (now < dueAt) {
    if (previous && previous.dueAt !== entry.dueAt) save();
    out.gate = {
      result: "waiting",
      message: `waiting for wave ${place.wave} of ${place.waves} (deploys at ${iso(dueAt)})`,
      hint: "protocol git:pull --now deploys it at once",
    };
    return out;
  }
  const target = fleetTarget(app);
  if (!target) return out;
  if (entry.hold && entry.checkedAt !== null && now - entry.checkedAt < recheckMs(rollout, input.intervalSeconds))
    return { ...out, gate: held(entry.hold) };
  let hold: Hold | null;
  try {
    hold = holdFor((await readFleet(target.url, target.env)).get(target.env), commit, id);
  } catch (error) {
    const why = errorMessage(error);
    if (place.wave === 1) {
      // The first wave is the canaries: there is no earlier result to wait for, only a freeze it cannot see.
      log.warn(`the fleet record cannot be read (${why}); the first wave deploys ${shortSha(commit)} anyway`);
      entry = { ...entry, hold: null, checkedAt: now };
      save();
      return out;
    }
    entry = {
      ...entry,
      checkedAt: now,
      hold: {
        kind: "unreadable",
        message: `waiting for the fleet record (wave ${place.wave} deploys only once the earlier waves' results can be read): ${why}`,
        node: null,
      },
    };
    save();
    return { ...out, gate: held(entry.hold!) };
  }
  entry = { ...entry, hold, checkedAt: now };
  if (hold && !entry.notified) {
    entry.notified = true;
    log.warn(`held ${shortSha(commit)}: ${hold.message}`);
    out.report = { commit, running: state.deployedCommit, result: "held", error: hold.message };
    out.held = { to: commit, error: hold.message };
  }
  save();
  return { ...out, gate: hold ? held(hold) : null };
}
