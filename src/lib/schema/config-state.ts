import * as v from "valibot";

export const CONFIG_SYNC_RESULTS = [
  "up-to-date",
  "updated",
  "dirty",
  "ahead",
  "diverged",
  "unreachable",
  "error",
] as const;
export type ConfigSyncResult = (typeof CONFIG_SYNC_RESULTS)[number];

/** The config slave's own state file, beside the node's status.json. */
export const ConfigStateSchema = v.object({
  remoteCommit: v.optional(v.nullable(v.string()), null),
  lastSync: v.optional(
    v.nullable(
      v.object({
        at: v.string(),
        result: v.picklist(CONFIG_SYNC_RESULTS),
        error: v.nullable(v.string()),
        durationMs: v.optional(v.number(), 0),
      }),
    ),
    null,
  ),
  failures: v.optional(v.number(), 0),
  /** What the background loop last wrote to its log about a poll (one line per change, failures hourly). */
  announced: v.optional(
    v.nullable(v.object({ result: v.string(), error: v.nullable(v.string()), at: v.string() })),
    null,
  ),
});

export type ConfigState = v.InferOutput<typeof ConfigStateSchema>;
