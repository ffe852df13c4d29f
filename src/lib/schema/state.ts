import * as v from "valibot";

export const SYNC_RESULTS = ["up-to-date", "deployed", "dirty", "ahead", "diverged", "unreachable", "error"] as const;
export type SyncResult = (typeof SYNC_RESULTS)[number];

const iso = v.string();
const sha = v.nullable(v.string());

export const NodeStateSchema = v.object({
  /** The remote tip as last seen by ls-remote. */
  remoteCommit: v.optional(sha, null),
  remoteSeenAt: v.optional(v.nullable(iso), null),
  /** The commit the last successful deploy brought up (compose run against it). */
  deployedCommit: v.optional(sha, null),
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
});

export type NodeState = v.InferOutput<typeof NodeStateSchema>;

export const DeployRecordSchema = v.object({
  from: sha,
  to: v.string(),
  startedAt: iso,
  durationMs: v.number(),
  result: v.picklist(["deployed", "failed"]),
  error: v.optional(v.nullable(v.string()), null),
  /** What was moved aside to make the deploy possible (stash commit or backup ref). */
  keptAs: v.optional(v.nullable(v.string()), null),
  compose: v.optional(v.boolean(), false),
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
  updatedAt: iso,
});

export type Registration = v.InferOutput<typeof RegistrationSchema>;
