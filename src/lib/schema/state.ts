import * as v from "valibot";
import { FleetConflictSchema, FleetReportSchema, RolloutStateSchema } from "./fleet.ts";

export const SYNC_RESULTS = [
  "up-to-date",
  "deployed",
  "dirty",
  "ahead",
  "diverged",
  "unreachable",
  // A fetch ran out of room (issue 29): not fetched again until there is more room or a new commit.
  "disk-full",
  "error",
  // The docker issue's outcomes: a failed deploy that was undone, a commit skipped after that, a held node.
  "rolled-back",
  "quarantined",
  "paused",
  // Fleet rollouts: a new commit waits for the node's wave, or is held (a canary failed it, a freeze).
  "waiting",
  "held",
] as const;
export type SyncResult = (typeof SYNC_RESULTS)[number];

const iso = v.string();
const sha = v.nullable(v.string());

export const ServiceImageSchema = v.object({ service: v.string(), image: v.string(), digest: v.nullable(v.string()) });

export const NotifyStateSchema = v.object({
  failing: v.boolean(),
  lastKey: v.nullable(v.string()),
  lastSentAt: v.nullable(v.number()),
});

export type NotifyState = v.InferOutput<typeof NotifyStateSchema>;

export const HealStateSchema = v.object({
  /** Each service's restarts within the window (epoch ms), oldest first: one service's deaths never delay another. */
  restarts: v.optional(
    v.union([
      v.record(v.string(), v.array(v.number())),
      // The first shape of this key (one list for all services): started afresh.
      v.pipe(
        v.array(v.number()),
        v.transform((): Record<string, number[]> => ({})),
      ),
    ]),
    {},
  ),
  /** Services left alone after too many restarts, until the next commit, image, config or start. */
  crashLoop: v.nullable(
    v.object({ services: v.array(v.string()), since: iso, commit: v.nullable(v.string()), restarts: v.number() }),
  ),
});
export type HealState = v.InferOutput<typeof HealStateSchema>;

export const NodeStateSchema = v.object({
  /** Each service's image digest at the last good deploy: what a rollback restores. */
  images: v.optional(v.array(ServiceImageSchema), []),
  /** A commit (and, for an image update, the digests) that failed and was rolled back: skipped until the remote moves. */
  quarantine: v.optional(
    v.nullable(
      v.object({
        commit: v.string(),
        digests: v.nullable(v.record(v.string(), v.string())),
        reason: v.string(),
        at: iso,
        /** The commit the node went back to; null when there was none (a first deploy) or the rollback failed. */
        rolledBackTo: v.optional(v.nullable(v.string()), null),
      }),
    ),
    null,
  ),
  /** The compose project this checkout's deploys use (kept, so a new default never orphans containers). */
  project: v.optional(v.nullable(v.string()), null),
  /**
   * The deploy under way (written when it starts, cleared when it ends): status shows it. Kept after
   * an infrastructure error (`error`), so the retry is the same deploy (same id: its finished hook
   * steps are not run again).
   */
  deploying: v.optional(
    v.nullable(
      v.object({
        id: v.optional(v.string(), ""),
        from: sha,
        to: v.string(),
        since: iso,
        reason: v.optional(v.string(), "commit"),
        error: v.optional(v.nullable(v.string()), null),
      }),
    ),
    null,
  ),
  /** The deploy hook steps that ran for the deploy `deployId` (point:step): a deploy resumed after a crash skips them. */
  hooksDone: v.optional(
    v.nullable(v.object({ deployId: v.optional(v.string(), ""), to: v.string(), steps: v.array(v.string()) })),
    null,
  ),
  /** The services the last good deploy left running (and the one-shots that finished): what a pass keeps running. */
  services: v.optional(v.nullable(v.object({ running: v.array(v.string()), completed: v.array(v.string()) })), null),
  /**
   * What the app's one loop follows: the app's remote (git:slave, git:slave:stop) and the config
   * repo's (config:slave, config:slave:stop). start follows both.
   */
  follow: v.optional(v.object({ app: v.boolean(), config: v.boolean() }), { app: true, config: true }),
  /** Restarts of services that stopped behind protocol's back, and the crash-loop mark. */
  heal: v.optional(HealStateSchema, { restarts: {}, crashLoop: null }),
  /** Set by deploy:rollback: the node holds its commit until start or git:slave runs again. */
  paused: v.optional(v.nullable(v.object({ at: iso, reason: v.string(), commit: v.string() })), null),
  /** The registry checks for floating tags: their own backoff, so a registry outage never slows git polling. */
  registry: v.optional(
    v.object({
      failures: v.number(),
      nextCheckAt: v.nullable(v.number()),
      error: v.nullable(v.string()),
      updateAvailable: v.nullable(v.string()),
    }),
    { failures: 0, nextCheckAt: null, error: null, updateAvailable: null },
  ),
  notify: v.optional(NotifyStateSchema, { failing: false, lastKey: null, lastSentAt: null }),
  /** The last move protocol found cut short (kill -9, full disk) and finished: what it kept aside. */
  lastRecovery: v.optional(
    v.nullable(
      v.object({
        at: iso,
        from: sha,
        to: v.string(),
        finished: v.number(),
        kept: v.nullable(v.string()),
        keptPaths: v.array(v.string()),
      }),
    ),
    null,
  ),
  /** A staggered rollout of the remote's new commit (rollout in protocol.json): wave, due time, hold. */
  rollout: v.optional(v.nullable(RolloutStateSchema), null),
  /** This node's fleet record, waiting to be pushed to rollout.statusRemote. */
  fleetReport: v.optional(v.nullable(FleetReportSchema), null),
  /**
   * The last fetch stopped for want of room, with the sizes (core/disk-reserve.ts FetchRoom): the same commit
   * is not fetched again until its file system has more room. Cleared by a fetch that completes.
   */
  diskFull: v.optional(
    v.nullable(
      v.object({
        commit: v.nullable(v.string()),
        mount: v.string(),
        freeBefore: v.number(),
        freeAtStop: v.number(),
        reserve: v.number(),
        at: iso,
      }),
    ),
    null,
  ),
  /** Another machine reports under this node's id (found by the last push); null when the last push found none. */
  fleetConflict: v.optional(v.nullable(FleetConflictSchema), null),
  /** The remote tip as last seen by ls-remote. */
  remoteCommit: v.optional(sha, null),
  remoteSeenAt: v.optional(v.nullable(iso), null),
  /** The commit the last successful deploy brought up (compose run against it). */
  deployedCommit: v.optional(sha, null),
  /** Hash of the linked config files at the last successful deploy (null: no config repo). */
  deployedConfigHash: v.optional(v.nullable(v.string()), null),
  lastSync: v.optional(
    v.nullable(
      v.object({
        at: iso,
        result: v.picklist(SYNC_RESULTS),
        error: v.nullable(v.string()),
        durationMs: v.optional(v.number(), 0),
      }),
    ),
    null,
  ),
  /** Consecutive polls that could not reach the remote; drives the backoff. */
  failures: v.optional(v.number(), 0),
  /** What the background loop last wrote to its log about a poll (one line per change, failures hourly). */
  announced: v.optional(
    v.nullable(v.object({ result: v.string(), error: v.nullable(v.string()), at: v.string() })),
    null,
  ),
});

export type NodeState = v.InferOutput<typeof NodeStateSchema>;

/** One step of a deploy hook as it ran: exit code (null: it did not start), time, a timeout. */
export const HookRunSchema = v.object({
  point: v.string(),
  step: v.number(),
  command: v.string(),
  service: v.nullable(v.string()),
  exitCode: v.nullable(v.number()),
  durationMs: v.number(),
  timedOut: v.boolean(),
});
export type HookRun = v.InferOutput<typeof HookRunSchema>;

export const DeployRecordSchema = v.object({
  from: sha,
  to: v.string(),
  startedAt: iso,
  durationMs: v.number(),
  /** "error": the infrastructure failed (engine, registry, network, disk), not the commit; retried. */
  result: v.picklist(["deployed", "failed", "rolled-back", "error"]),
  /**
   * What triggered it: a new commit, a new image digest, changed config, a rollback by hand, or the
   * remote's branch rewound or rewritten under the deployed commit (a rollback by force-push).
   */
  reason: v.optional(v.picklist(["commit", "image", "config", "rollback", "rewind", "rewrite"]), "commit"),
  /** Each service's image digest after the deploy (or after the rollback). */
  images: v.optional(v.array(ServiceImageSchema), []),
  /** For a rolled-back deploy: the commit the node went back to. */
  rolledBackTo: v.optional(v.nullable(v.string()), null),
  error: v.optional(v.nullable(v.string()), null),
  /** What was moved aside to make the deploy possible (stash commit or backup ref). */
  keptAs: v.optional(v.nullable(v.string()), null),
  compose: v.optional(v.boolean(), false),
  /** The deploy hooks that ran, in order. */
  hooks: v.optional(v.array(HookRunSchema), []),
});

export type DeployRecord = v.InferOutput<typeof DeployRecordSchema>;

export const RegistrationSchema = v.object({
  dir: v.string(),
  name: v.string(),
  enabled: v.boolean(),
  /** How start was asked to run the loop, so restart after a reboot runs it the same way. */
  interval: v.optional(v.number()),
  onDirty: v.optional(v.picklist(["refuse", "stash"]), "refuse"),
  onDiverged: v.optional(v.picklist(["refuse", "reset"]), "refuse"),
  /** The variables that steer git and docker (DOCKER_HOST, proxies…) as start saw them: restart reuses them. */
  loopEnv: v.optional(v.record(v.string(), v.string())),
  /** Who keeps the loops running: cron's @reboot line and background loops, or systemd units. */
  supervisor: v.optional(v.picklist(["cron", "systemd"]), "cron"),
  updatedAt: iso,
});

export type Registration = v.InferOutput<typeof RegistrationSchema>;
