import * as v from "valibot";
import { branchNameProblem } from "../core/refname.ts";
import { hasControlChars } from "../core/validate.ts";
import { NODE_ID_RULE, nodeIdProblem } from "./node-id.ts";

const nonEmpty = v.pipe(v.string(), v.minLength(1, "must not be empty"));

const seconds = v.pipe(
  v.number("must be a number of seconds"),
  v.minValue(1, "must be at least 1"),
  v.maxValue(86400, "must be at most 86400"),
);

/** Like seconds, but 0 is allowed: "no wait". */
const secondsOrNone = v.pipe(
  v.number("must be a number of seconds"),
  v.minValue(0, "must be at least 0"),
  v.maxValue(600, "must be at most 600"),
);

const oneOrMany = <T extends v.GenericSchema>(schema: T) =>
  v.union([schema, v.pipe(v.array(schema), v.minLength(1))], "must be a probe or a list of probes");

const HttpProbeSchema = v.object({
  url: v.pipe(v.string(), v.url("must be a URL")),
  status: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(599))),
  timeout: v.optional(seconds),
  retries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1000))),
});

const CommandProbeSchema = v.object({
  service: v.optional(nonEmpty),
  run: v.pipe(v.array(nonEmpty), v.minLength(1, "must name a command")),
  timeout: v.optional(seconds),
  retries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1000))),
});

const nodeIdSchema = v.pipe(
  v.string(),
  v.check((id) => nodeIdProblem(id) === null, `must be a node id (${NODE_ID_RULE})`),
);

/** One step of a deploy hook: a host command in the app dir, or a command in a service container. */
const HookStepSchema = v.object({
  run: v.pipe(v.array(nonEmpty), v.minLength(1, "must name a command")),
  /** A compose service: the command runs there, through `docker compose exec -T`. */
  service: v.optional(nonEmpty),
  /** Seconds before the step is killed, with its whole process group (default 300). */
  timeout: v.optional(seconds),
  /** "app": the app's .env values join the step's environment (never its argv). */
  env: v.optional(v.picklist(["app"], 'must be "app"')),
});

const hookSteps = v.pipe(v.array(HookStepSchema), v.maxLength(20, "may list at most 20 steps"));

/** Staggered deploys across a fleet: waves by a stable hash of each node's id, canaries first. */
const RolloutSchema = v.object({
  /** Cumulative percentages of the fleet, ascending, ending at 100 (default [100]: one wave). */
  waves: v.optional(
    v.pipe(
      v.array(v.pipe(v.number(), v.integer("must be whole percentages"), v.minValue(1), v.maxValue(100))),
      v.minLength(1, "must list at least one wave"),
      v.maxLength(20, "may list at most 20 waves"),
      v.check((w) => w.every((p, i) => i === 0 || p > w[i - 1]!), "must be ascending percentages"),
      v.check((w) => w.at(-1) === 100, "must end at 100, so every node deploys"),
    ),
  ),
  /** The pause between two waves (default 300). */
  waveSeconds: v.optional(seconds),
  /** Node ids always in the first wave. */
  canaries: v.optional(v.pipe(v.array(nodeIdSchema), v.maxLength(100))),
  /** A git remote the nodes push their fleet record to (a small repo of its own, never the app's). */
  statusRemote: v.optional(
    v.pipe(
      nonEmpty,
      v.check((url) => !hasControlChars(url), "must not contain control characters"),
    ),
  ),
  /** A node that has not reported for this long while others moved on is shown as stale (default 600). */
  staleSeconds: v.optional(seconds),
});

/** protocol.json: the original PHP tool's keys plus the new ones, all optional with defaults. */
export const ProtocolJsonSchema = v.object({
  name: v.optional(
    v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be letters, digits, '.', '_' or '-'")),
  ),
  git: v.optional(
    v.object({
      remote: v.optional(nonEmpty),
      username: v.optional(v.string()),
      password: v.optional(v.string()),
      key: v.optional(nonEmpty),
      branch: v.optional(
        v.pipe(
          nonEmpty,
          v.check((b) => branchNameProblem(b) === null, "is not a valid branch name (git check-ref-format --branch)"),
        ),
      ),
      remotename: v.optional(v.pipe(nonEmpty, v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "is not a valid remote name"))),
      interval: v.optional(seconds),
    }),
    {},
  ),
  docker: v.optional(
    v.object({
      image: v.optional(nonEmpty),
      username: v.optional(v.string()),
      password: v.optional(v.string()),
      local: v.optional(nonEmpty),
      compose: v.optional(
        v.union([nonEmpty, v.pipe(v.array(nonEmpty), v.minLength(1))], "must be a file name or a list of them"),
      ),
      /** The compose project name (default: the app's name and a short hash of the checkout's path). */
      project: v.optional(
        v.pipe(
          v.string(),
          v.regex(/^[a-z0-9][a-z0-9_-]*$/, "must be lower-case letters, digits, '-' or '_' (compose's rule)"),
        ),
      ),
      /** The service `exec` and `*:logs` use (default: the only or first service). */
      service: v.optional(nonEmpty),
      /** Follow floating image tags: auto (pull and up on a new digest), notify (only say so), off. */
      updates: v.optional(v.picklist(["auto", "notify", "off"], "must be auto, notify or off")),
      /** Start the deployed commit's services again when they stop behind protocol's back (default true). */
      keepRunning: v.optional(v.boolean("must be true or false")),
      /** How a service that keeps dying is restarted: backoff, then crash-looping after maxRestarts in windowSeconds. */
      heal: v.optional(
        v.object({
          backoffSeconds: v.optional(seconds),
          maxRestarts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100))),
          windowSeconds: v.optional(seconds),
        }),
      ),
    }),
    {},
  ),
  deploy: v.optional(
    v.object({
      /** Commands around every deploy: before the move, after up, after the health gate, after a rollback. */
      hooks: v.optional(
        v.object({
          beforeMove: v.optional(hookSteps),
          afterUp: v.optional(hookSteps),
          afterHealthy: v.optional(hookSteps),
          afterRollback: v.optional(hookSteps),
        }),
      ),
      /** With no health: how long every service a deploy started must stay running (default 10). */
      settleSeconds: v.optional(secondsOrNone),
      health: v.optional(
        v.object({
          /** Seconds to wait for compose healthchecks and probes before the deploy counts as failed. */
          timeout: v.optional(seconds),
          http: v.optional(oneOrMany(HttpProbeSchema)),
          command: v.optional(oneOrMany(CommandProbeSchema)),
        }),
      ),
    }),
  ),
  rollout: v.optional(RolloutSchema),
  notify: v.optional(
    v.object({
      webhook: v.optional(v.pipe(v.string(), v.url("must be a URL"))),
      /** Name of the environment variable holding the webhook's secret (never the secret itself). */
      secretEnv: v.optional(
        v.pipe(nonEmpty, v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")),
      ),
    }),
  ),
  configuration: v.optional(
    v.object({
      local: v.optional(nonEmpty),
      remote: v.optional(nonEmpty),
    }),
    {},
  ),
});

export type ProtocolJson = v.InferOutput<typeof ProtocolJsonSchema>;

/** One line naming every key that is wrong, e.g. `git.interval: must be at least 1`. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues.map((issue) => `${v.getDotPath(issue) ?? "(top level)"}: ${issue.message}`).join("; ");
}

/** The original PHP tool's keys: an empty string in any of them means "not set" (its samples ship them empty). */
const ORIGINAL_KEYS = {
  name: true,
  git: ["remote", "remotename", "branch", "username", "password", "key"],
  docker: ["image", "username", "password", "local"],
  configuration: ["local", "remote"],
} as const;

/** protocol.json as the original tool writes it, made readable here: its empty strings dropped. Pure. */
export function normalizeOriginal(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...data };
  if (out.name === "") delete out.name;
  for (const group of ["git", "docker", "configuration"] as const) {
    const section = out[group];
    if (section === null || typeof section !== "object" || Array.isArray(section)) continue;
    const copy: Record<string, unknown> = { ...(section as Record<string, unknown>) };
    for (const key of ORIGINAL_KEYS[group]) if (copy[key] === "") delete copy[key];
    out[group] = copy;
  }
  return out;
}

type EntrySchema = v.GenericSchema & { entries?: Record<string, EntrySchema>; wrapped?: EntrySchema };

function objectEntries(schema: EntrySchema | undefined): Record<string, EntrySchema> | null {
  let current = schema;
  while (current && !current.entries && current.wrapped) current = current.wrapped;
  return current?.entries ?? null;
}

/**
 * Keys protocol does not use (dot paths, sorted): the ones later versions of the original added
 * (`project_type`, `deployment.*`, `docker.container_name`, `configuration.environments`) or a typo.
 * They are accepted, with one warning naming them. Pure.
 */
export function unknownKeys(
  data: unknown,
  schema: EntrySchema = ProtocolJsonSchema as EntrySchema,
  prefix = "",
): string[] {
  const entries = objectEntries(schema);
  if (!entries || data === null || typeof data !== "object" || Array.isArray(data)) return [];
  return Object.entries(data as Record<string, unknown>)
    .flatMap(([key, value]) =>
      Object.hasOwn(entries, key) ? unknownKeys(value, entries[key], `${prefix}${key}.`) : [`${prefix}${key}`],
    )
    .sort();
}
