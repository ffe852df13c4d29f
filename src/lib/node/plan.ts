/**
 * The values a pass works with: what it observed of the world (Observed), how it was asked to
 * behave (Policy), and what decide() made of them (Plan). Plain data, no behaviour: decide.ts is a
 * pure function from the first two to the third, and its table test builds them by hand.
 */
import type { Gate } from "../fleet/gate.ts";
import type { StatusEntry } from "../git/parse.ts";
import type { ProtocolJson } from "../schema/protocol-json.ts";
import type { HealState, NodeState, SyncResult } from "../schema/state.ts";

export type DeployReason = "commit" | "image" | "config" | "rollback" | "rewind" | "rewrite";

/** One service of the deployed commit as the engine shows it now. */
export interface ServiceState {
  service: string;
  /** docker's State.Status, or "missing" when the service has no container at all. */
  state: "running" | "exited" | "dead" | "created" | "restarting" | "paused" | "removing" | "missing";
  exitCode: number | null;
  /** "healthy", "unhealthy", "starting"; null without a HEALTHCHECK. */
  health: string | null;
  /** The ids of its containers that are down (`docker start` brings exactly those back). */
  ids: string[];
  /** The compose file's own opt-out (label `protocol.keep-running: "false"`): a heal leaves it alone. */
  optOut?: boolean;
}

/** How the working copy relates to the remote's commit, known once it is fetched. */
export interface Incoming {
  /** The checked-out branch (null: a detached HEAD). */
  branch: string | null;
  changes: readonly StatusEntry[];
  ahead: number;
  behind: number;
  /** Node-local files (untracked, ignored) the move would overwrite. */
  localFiles: string[];
  /** Too little room for the move or the state dir's records: why, and what to do. */
  room: { error: string; hint: string } | null;
  /**
   * The incoming commit's protocol.json, validated: what governs taking it (its rollout, its
   * hooks) is the commit's own, so a push can always fix what a push broke. null: it is invalid
   * (the deploy's first step refuses it, saying why); undefined: not read.
   */
  config?: ProtocolJson | null;
}

/** The config repo this loop follows (null on Observed: the app has none, or it is not followed). */
export interface ConfigRepoState {
  branch: string | null;
  head: string | null;
  /** The env branch's commit on the config remote; null when it could not be read. */
  remoteCommit: string | null;
}

export interface Observed {
  now: number;
  /** A move was cut short (kill -9, full disk): its journal is still there. */
  journal: boolean;
  head: string | null;
  /**
   * What the node follows, and where the remote's branch is now (null: the branch is not there;
   * `failed`: the remote could not be asked, which stops new commits, not the rest of the pass).
   */
  remote: {
    name: string;
    branch: string;
    commit: string | null;
    failed?: { result: "unreachable" | "disk-full" | "error"; error: string; hint?: string };
  };
  /** What earlier passes recorded in the node's state. */
  recorded: Pick<
    NodeState,
    | "deployedCommit"
    | "deployedConfigHash"
    | "quarantine"
    | "paused"
    | "deploying"
    | "heal"
    | "services"
    | "images"
    | "diskFull"
  >;
  /** Free bytes now on the file system of .git/objects: looked at only while a fetch is held for want of room. */
  objectsFree?: number;
  /** The hash of the linked config files now (null: no config repo). */
  configHash: string | null;
  /** The app has a compose file. */
  compose: boolean;
  /** The deployed commit's services now; an error when the engine cannot say; null when not looked at. */
  containers: { services: ServiceState[] } | { error: string } | null;
  /** A floating tag moved in its registry: the new digests. undefined: not asked (yet); null: nothing new. */
  imageUpdate?: { digests: Record<string, string> } | null;
  /** The fleet gate on remote.commit. undefined: not asked (yet); null: go. */
  gate?: Gate | null;
  /** After the fetch. undefined: not fetched (yet). */
  incoming?: Incoming;
  /** The config repo followed by this loop; undefined when there is none to follow. */
  configRepo?: ConfigRepoState;
  /** Steps that already ran in this pass (a pass never runs the same observing step twice). */
  done: ReadonlySet<StepKind>;
}

export interface HealPolicy {
  backoffSeconds: number;
  maxRestarts: number;
  windowSeconds: number;
}

export interface Policy {
  onDirty: "refuse" | "stash";
  onDiverged: "refuse" | "reset";
  /** false (git:pull --now): deploy a new commit at once, whatever the rollout says. */
  rollout: boolean;
  /** The app has a `rollout` key. */
  /** The protocol.json on disk has a rollout: the fallback when the incoming commit's cannot be read. */
  staged: boolean;
  /** docker.keepRunning: start services that stopped behind protocol's back. */
  keepRunning: boolean;
  heal: HealPolicy;
  /** docker.updates: what a moved floating tag does. */
  updates: "auto" | "notify" | "off";
  /** The loop was asked to stop: no new move starts. */
  stopping: boolean;
  /**
   * "start": a person's start (a crash-loop mark is lifted, no backoff); "restart": after a reboot
   * (no backoff, a crash-loop mark stays); null: a poll.
   */
  start: "start" | "restart" | null;
}

/** The steps a plan is made of, in the order a deploy runs them. */
export type StepKind =
  | "recover"
  | "follow-config"
  | "check-images"
  | "check-gate"
  | "fetch"
  | "pull"
  | "hooks"
  | "move"
  | "up"
  | "wait"
  | "heal"
  | "crash-loop"
  | "record";

export type Step =
  | { kind: "recover" | "follow-config" | "check-images" | "check-gate" | "fetch"; why: string }
  | { kind: "pull"; why: string; incoming: boolean }
  | { kind: "hooks"; why: string; point: "beforeMove" | "afterUp" | "afterHealthy" }
  | {
      kind: "move";
      why: string;
      stash: boolean;
      reset: boolean;
      follow: "rewind" | "rewrite" | null;
      localFiles: string[];
    }
  | { kind: "up"; why: string }
  | { kind: "wait"; why: string }
  | { kind: "heal"; why: string; services: ServiceState[] }
  | { kind: "crash-loop"; why: string; services: string[]; restarts: number }
  | { kind: "record"; why: string };

/** A deploy the plan runs: which commit, why, and where a failure goes back to. */
export interface DeployPlan {
  /** The interrupted deploy this one resumes (its finished hook steps are skipped), else null: a new id. */
  resume: string | null;
  from: string | null;
  to: string;
  reason: DeployReason;
  /** For an image deploy: the digests that triggered it (quarantined if it fails). */
  digests: Record<string, string> | null;
  /** The last good deploy a failure goes back to; null on a first deploy. */
  rollbackTo: string | null;
}

export interface Plan {
  /** What the pass comes to if its steps succeed (a deploy's real result comes from running it). */
  result: SyncResult;
  /** Why, for a person: the pass's one line. */
  why: string;
  error: string | null;
  hint?: string;
  steps: Step[];
  deploy: DeployPlan | null;
  /** The steps observe more (fetch, registry, fleet record, config repo): decide again after them. */
  again: boolean;
  /** Heal bookkeeping to record whatever the steps do (a restart waiting out its backoff). */
  heal?: { waitingUntil: number | null };
}

export type { HealState };
