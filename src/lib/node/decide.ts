/**
 * How a pass decides: one pure function from what the pass observed (and how it was asked to
 * behave) to a plan. No git, no docker, no clock, no file: the README's "How a pass decides" table
 * is this function, and test/unit/decide.test.ts checks it row by row.
 *
 * A plan either observes more and asks to be decided again (`again`: recover a cut-short move,
 * follow the config repo, ask the registry or the fleet record, fetch), or is final: a result, the
 * deploy's steps when there is one, and the heal of the deployed commit's services, which no hold,
 * wave or refusal stops (they stop new commits, not the current one's containers).
 */
import { fetchRoomError, retryAboveBytes } from "../core/disk-reserve.ts";
import { shortSha } from "../core/output.ts";
import { isQuarantined } from "../deploy/quarantine.ts";
import { classifyLocalWork } from "../git/classify.ts";
import type { SyncResult } from "../schema/state.ts";
import { planHeal } from "./heal.ts";
import type { DeployPlan, DeployReason, Observed, Plan, Policy, Step } from "./plan.ts";

const APP_HINTS = {
  dirty: "commit or stash them, or run with --on-dirty=stash",
  ahead: "push or drop them, or run with --on-diverged=reset (keeps a backup ref)",
};

function again(step: Step): Plan {
  return { result: "up-to-date", why: step.why, error: null, steps: [step], deploy: null, again: true };
}

function final(
  o: Observed,
  p: Policy,
  result: SyncResult,
  why: string,
  refusal?: { error: string; hint?: string },
): Plan {
  const h = planHeal(o, p);
  return {
    result,
    why: h.note ? `${why}; ${h.note}` : why,
    error: refusal?.error ?? null,
    ...(refusal?.hint ? { hint: refusal.hint } : {}),
    steps: h.steps,
    deploy: null,
    again: false,
    heal: { waitingUntil: h.waitingUntil },
  };
}

/** A deploy's steps: with a move, the incoming images first and the move between the hooks that surround it. */
function deploy(
  recorded: Observed["recorded"],
  plan: Omit<DeployPlan, "rollbackTo" | "resume">,
  move: Extract<Step, { kind: "move" }> | null,
): Plan {
  const deploying = recorded.deploying;
  const resume = deploying?.to === plan.to && deploying.id ? deploying.id : null;
  // A config or image deploy goes back to the same commit with the images it ran before.
  const rollbackTo = recorded.deployedCommit;
  const steps: Step[] = move
    ? [
        { kind: "pull", why: `the images of ${shortSha(plan.to)}, before the working copy moves`, incoming: true },
        { kind: "hooks", why: "drain, back up: before anything changes", point: "beforeMove" },
        move,
      ]
    : [
        ...(plan.reason === "image" || plan.reason === "config"
          ? [{ kind: "hooks", why: "before anything changes", point: "beforeMove" } as const]
          : []),
        { kind: "pull", why: `the images of ${shortSha(plan.to)}`, incoming: false },
      ];
  steps.push(
    { kind: "up", why: "docker compose up -d: bring the services to what the commit says" },
    { kind: "hooks", why: "migrations and the like, on the new containers", point: "afterUp" },
    { kind: "wait", why: "deploy.health's checks, else every service running for deploy.settleSeconds" },
    { kind: "hooks", why: "after the gate passed (a failure is logged; the deploy stands)", point: "afterHealthy" },
    {
      kind: "record",
      why: rollbackTo ? `the outcome; a failure goes back to ${shortSha(rollbackTo)}` : "the outcome",
    },
  );
  return {
    result: "deployed",
    why: `${plan.reason} ${shortSha(plan.from)} → ${shortSha(plan.to)}`,
    error: null,
    steps,
    deploy: { ...plan, resume, rollbackTo },
    again: false,
  };
}

function quarantinedError(o: Observed, commit: string): { error: string; hint: string } {
  const q = o.recorded.quarantine;
  return {
    error: `${shortSha(commit)} failed to deploy (${q?.reason}); ${
      q?.rolledBackTo ? `the node went back to ${shortSha(q.rolledBackTo)}` : "nothing was rolled back"
    }; skipped until a new commit arrives`,
    hint: "push a fix; the node deploys the next commit",
  };
}

/** The plan for one pass. Pure: the same observation and policy always give the same plan. */
export function decide(o: Observed, p: Policy): Plan {
  if (o.journal && !o.done.has("recover"))
    return again({ kind: "recover", why: "a move was cut short (kill -9, a full disk): finish it first" });
  const config = o.configRepo;
  if (config?.remoteCommit && config.remoteCommit !== config.head && !o.done.has("follow-config"))
    return again({
      kind: "follow-config",
      why: `config ${config.branch} moved: ${shortSha(config.head)} → ${shortSha(config.remoteCommit)}`,
    });
  const paused = o.recorded.paused;
  if (paused)
    return final(o, p, "paused", "held by deploy:rollback", {
      error: `held at ${shortSha(paused.commit)} since ${paused.at}: ${paused.reason}`,
      hint: "run protocol start (or git:slave) to follow the remote again",
    });
  const { head } = o;
  const remote = o.remote.commit;
  const failed = o.remote.failed;
  if (failed) return final(o, p, failed.result, `${o.remote.name} could not be asked`, failed);
  if (remote === null)
    return final(o, p, "error", "no branch to follow", {
      error: `branch ${o.remote.branch} does not exist on ${o.remote.name}`,
      hint: "push it, or set git.branch in protocol.json",
    });

  if (head === remote) {
    const deployed = o.recorded.deployedCommit;
    if (deployed === head && o.configHash === o.recorded.deployedConfigHash && !interrupted(o, head)) {
      const followsImages = o.recorded.images.some((image) => image.digest);
      if (followsImages && p.updates !== "off" && o.imageUpdate === undefined && !o.done.has("check-images"))
        return again({ kind: "check-images", why: "a floating tag may have moved: ask its registry (HEAD, no pull)" });
      const update = o.imageUpdate;
      if (update && p.updates === "auto" && !isQuarantined(o.recorded, head, update.digests))
        return deploy(o.recorded, { from: head, to: head, reason: "image", digests: update.digests }, null);
      return final(o, p, "up-to-date", `up to date at ${shortSha(head)}`);
    }
    if (isQuarantined(o.recorded, head, null))
      return final(o, p, "quarantined", "the commit failed before", quarantinedError(o, head));
    const reason: DeployReason = reasonOfInterrupted(o, head) ?? (deployed === head ? "config" : "commit");
    return deploy(o.recorded, { from: deployed, to: head, reason, digests: null }, null);
  }

  if (isQuarantined(o.recorded, remote, null))
    return final(o, p, "quarantined", "the remote's commit failed before", quarantinedError(o, remote));
  const incoming = o.incoming;
  if (!incoming) {
    const held = heldForRoom(o, p, remote);
    if (held) return final(o, p, "disk-full", `no room to fetch ${shortSha(remote)}`, held);
    return again({ kind: "fetch", why: `${o.remote.name}/${o.remote.branch} is at ${shortSha(remote)}` });
  }
  // Staged by the incoming commit's own rollout (the disk's when the commit's cannot be read).
  const staged = incoming.config ? incoming.config.rollout !== undefined : p.staged;
  if (staged && p.rollout) {
    if (o.gate === undefined && !o.done.has("check-gate"))
      return again({ kind: "check-gate", why: `the rollout's wave and the fleet record for ${shortSha(remote)}` });
    if (o.gate) return final(o, p, o.gate.result, o.gate.message, { error: o.gate.message, hint: o.gate.hint });
  }
  if (incoming.branch !== o.remote.branch)
    return final(o, p, "error", "on another branch", {
      error: `the working copy is on ${incoming.branch ? `branch ${incoming.branch}` : "a detached HEAD"}, but protocol follows ${o.remote.branch}`,
      hint: `check out ${o.remote.branch} (git switch ${o.remote.branch}), or set git.branch`,
    });
  const { ahead, behind } = incoming;
  // HEAD is what protocol deployed from the remote, so commits the remote no longer has are the
  // remote's own history, rewound or rewritten (a rollback by force-push): follow it.
  const follow =
    ahead > 0 && head !== null && head === o.recorded.deployedCommit ? (behind === 0 ? "rewind" : "rewrite") : null;
  const refusal = classifyLocalWork(
    { changes: incoming.changes, ahead: follow ? 0 : ahead, behind },
    `${o.remote.name}/${o.remote.branch}`,
    { dirty: p.onDirty === "stash", ahead: p.onDiverged === "reset" },
    APP_HINTS,
  );
  if (refusal) return final(o, p, refusal.result, refusal.error, refusal);
  if (incoming.localFiles.length > 0 && p.onDirty !== "stash")
    return final(o, p, "dirty", "node-local files in the way", localFilesRefusal(incoming.localFiles, remote));
  if (incoming.room) return final(o, p, "error", "too little room", incoming.room);
  if (p.stopping)
    return final(o, p, "error", "stopping", {
      error: "stopping: the working copy was not moved (the signal came before the move)",
      hint: "the next start moves it",
    });
  return deploy(
    o.recorded,
    { from: head, to: remote, reason: follow ?? "commit", digests: null },
    {
      kind: "move",
      why: follow
        ? `${o.remote.name}/${o.remote.branch} was ${follow === "rewind" ? "rewound" : "rewritten"}: follow it`
        : `fast-forward to ${shortSha(remote)}`,
      stash: incoming.changes.length > 0,
      reset: ahead > 0,
      follow,
      localFiles: incoming.localFiles,
    },
  );
}

/**
 * The fetch of `remote` that ran out of room is not tried again (it would fill the disk to the
 * reserve again) until its file system has clearly more room than that fetch had; a new commit or
 * a person's start tries at once.
 */
function heldForRoom(o: Observed, p: Policy, remote: string): { error: string; hint: string } | null {
  const room = o.recorded.diskFull;
  if (!room || room.commit !== remote || p.start === "start" || o.objectsFree === undefined) return null;
  if (o.objectsFree > retryAboveBytes(room)) return null;
  return fetchRoomError(room, shortSha(remote), o.objectsFree);
}

/** A deploy of `head` that was cut short (or hit the infrastructure) and is to be finished. */
function interrupted(o: Observed, head: string): boolean {
  return o.recorded.deploying?.to === head;
}

/** The reason the interrupted deploy of `head` had, so the resumed one is the same deploy. */
function reasonOfInterrupted(o: Observed, head: string): DeployReason | null {
  const deploying = o.recorded.deploying;
  if (deploying?.to !== head) return null;
  const reason = deploying.reason as DeployReason;
  return ["commit", "image", "config", "rewind", "rewrite"].includes(reason) ? reason : null;
}

/** The deploy of what is checked out, as it is (a development machine's start: no remote to follow). */
export function planDeploy(recorded: Observed["recorded"], head: string): Plan {
  const reason: DeployReason = recorded.deployedCommit === head ? "config" : "commit";
  const o = { recorded } as Observed;
  return deploy(o.recorded, { from: recorded.deployedCommit, to: head, reason, digests: null }, null);
}

/** The refusal for node-local files in the way: names them, says how to go on. */
export function localFilesRefusal(paths: string[], commit: string): { error: string; hint: string } {
  const names = paths.slice(0, 5).join(", ") + (paths.length > 5 ? `, … (${paths.length} in all)` : "");
  return {
    error: `files that exist only on this node (untracked or git-ignored) are in the way of ${shortSha(commit)}: ${names}`,
    hint: "move them away, or run with --on-dirty=stash to keep them in the state dir's backups and go on",
  };
}
