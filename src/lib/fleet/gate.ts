/**
 * The rollout gate, asked before a node moves to a new commit: wait for the node's wave, then read
 * the fleet record once and hold a commit another node failed, or any commit while the environment
 * is frozen. Idle polls never get here, and a waiting node reads nothing from the status remote.
 */
import { errorMessage } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import { notifyDeploy } from "../deploy/notify.ts";
import { type GitContext, isAncestor } from "../git/git.ts";
import type { App } from "../app/app.ts";
import { updateNodeState } from "../app/state.ts";
import type { RolloutState } from "../schema/fleet.ts";
import type { NodeState } from "../schema/state.ts";
import { nodeIdentity } from "./identity.ts";
import { type Hold, holdFor, readFleet } from "./records.ts";
import { fleetTarget, queueReport } from "./report.ts";
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

/** null: go on and deploy. Otherwise the node stays where it is and says why. */
export async function rolloutGate(app: App, state: NodeState, input: GateInput): Promise<Gate | null> {
  const rollout = app.config.rollout;
  if (!rollout) return null;
  const commit = input.remoteCommit;
  // Going back to a commit this node already ran (the remote rewound) is never staged.
  if (input.head && (await isAncestor(input.ctx, commit, input.head))) return null;
  const id = nodeIdentity().id;
  const place = wavePlace(id, rollout);
  const now = Date.now();
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
  const save = () => updateNodeState(app.paths.status, { rollout: entry });
  if (!previous) {
    save();
    if (place.wave > 1)
      queueReport(app, { commit, running: state.deployedCommit, result: "waiting", dueAt: iso(dueAt) });
  }
  if (now < dueAt) {
    if (previous && previous.dueAt !== entry.dueAt) save();
    return {
      result: "waiting",
      message: `waiting for wave ${place.wave} of ${place.waves} (deploys at ${iso(dueAt)})`,
      hint: "protocol git:pull --now deploys it at once",
    };
  }
  const target = fleetTarget(app);
  if (!target) return null;
  if (entry.hold && entry.checkedAt !== null && now - entry.checkedAt < recheckMs(rollout, input.intervalSeconds))
    return held(entry.hold);
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
      return null;
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
    return held(entry.hold!);
  }
  entry = { ...entry, hold, checkedAt: now };
  if (hold && !entry.notified) {
    entry.notified = true;
    save();
    log.warn(`held ${shortSha(commit)}: ${hold.message}`);
    queueReport(app, { commit, running: state.deployedCommit, result: "held", error: hold.message });
    await notifyDeploy(app, { event: "held", from: state.deployedCommit, to: commit, error: hold.message });
  } else save();
  return hold ? held(hold) : null;
}
