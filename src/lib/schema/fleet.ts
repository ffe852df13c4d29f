import * as v from "valibot";

const iso = v.string();
const sha = v.pipe(v.string(), v.regex(/^[0-9a-f]{40,64}$/, "must be a full commit id"));

/** What a node last reported about a commit. "waiting" and "held" are reported once per commit. */
export const FLEET_RESULTS = ["waiting", "held", "deployed", "rolled-back", "failed", "error"] as const;
export type FleetResult = (typeof FLEET_RESULTS)[number];

/** Another machine's record found at this node's ref: the machine and when it wrote. */
export const ConflictSchema = v.object({
  machine: v.pipe(v.string(), v.maxLength(200)),
  at: v.pipe(v.string(), v.maxLength(64)),
});
export type Conflict = v.InferOutput<typeof ConflictSchema>;

/** One node's record on the status remote (record.json in the commit its ref points at). */
export const FleetRecordSchema = v.object({
  node: v.pipe(v.string(), v.maxLength(64)),
  env: v.pipe(v.string(), v.maxLength(200)),
  app: v.pipe(v.string(), v.maxLength(200)),
  /** The commit the result is about (a new commit it waits for, deployed, or failed). */
  commit: sha,
  /** The commit the node serves now (after a rollback: the one it went back to). */
  running: v.nullable(sha),
  result: v.picklist(FLEET_RESULTS),
  at: iso,
  /** The node's wave, 1 for the first. */
  wave: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(20)),
  /** For "waiting": when the node's wave deploys it. */
  dueAt: v.optional(v.nullable(iso), null),
  error: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(500))), null),
  version: v.pipe(v.string(), v.maxLength(100)),
  /** The machine that wrote it (host name / a random id of its state dir); null from older versions. */
  machine: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(200))), null),
  /** Another machine wrote this node id's ref before this record: two machines share the id. */
  conflict: v.optional(v.nullable(ConflictSchema), null),
});
export type FleetRecord = v.InferOutput<typeof FleetRecordSchema>;

/** `rollout:freeze`: every node of the environment holds new commits until `rollout:unfreeze`. */
export const FreezeRecordSchema = v.object({
  reason: v.pipe(v.string(), v.maxLength(500)),
  by: v.pipe(v.string(), v.maxLength(200)),
  at: iso,
});
export type FreezeRecord = v.InferOutput<typeof FreezeRecordSchema>;

/** `rollout:release <sha>`: nodes deploy that commit although a canary failed it. */
export const ReleaseRecordSchema = v.object({
  commit: v.pipe(v.string(), v.regex(/^[0-9a-f]{7,64}$/)),
  by: v.pipe(v.string(), v.maxLength(200)),
  at: iso,
});
export type ReleaseRecord = v.InferOutput<typeof ReleaseRecordSchema>;

/** The node's side of a rollout, in its state file: the commit it saw, its wave, and a hold. */
export const RolloutStateSchema = v.object({
  commit: v.string(),
  firstSeenAt: iso,
  wave: v.number(),
  dueAt: iso,
  hold: v.nullable(
    v.object({
      kind: v.picklist(["canary", "freeze", "unreadable"]),
      message: v.string(),
      /** The node whose failure holds this one (canary holds). */
      node: v.nullable(v.string()),
    }),
  ),
  /** When the fleet record was last read for this commit (ms): a hold is re-checked at the waves' pace. */
  checkedAt: v.nullable(v.number()),
  /** The hold was notified (webhook) and reported to the fleet record: once per commit. */
  notified: v.boolean(),
});
export type RolloutState = v.InferOutput<typeof RolloutStateSchema>;

/** The last push found another machine's record at this node's ref (status and doctor show it). */
export const FleetConflictSchema = v.object({
  node: v.string(),
  machine: v.string(),
  at: v.string(),
  /** When this node found it (its push). */
  seenAt: iso,
});
export type FleetConflict = v.InferOutput<typeof FleetConflictSchema>;

/** A record waiting to be pushed to the status remote, retried with backoff; never blocks a deploy. */
export const FleetReportSchema = v.object({
  record: FleetRecordSchema,
  /** Not before this (ms): spreads a fleet's pushes, and the backoff after a failure. */
  nextAt: v.number(),
  failures: v.number(),
  error: v.nullable(v.string()),
});
export type FleetReport = v.InferOutput<typeof FleetReportSchema>;
