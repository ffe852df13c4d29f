import * as v from "valibot";

const nonEmpty = v.pipe(v.string(), v.minLength(1, "must not be empty"));

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
        v.pipe(nonEmpty, v.check((b) => !b.startsWith("-") && !b.includes(".."), "is not a valid branch name")),
      ),
      remotename: v.optional(
        v.pipe(nonEmpty, v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "is not a valid remote name")),
      ),
      interval: v.optional(
        v.pipe(v.number("must be a number of seconds"), v.minValue(1, "must be at least 1"), v.maxValue(86400, "must be at most 86400")),
      ),
    }),
    {},
  ),
  docker: v.optional(
    v.object({
      image: v.optional(nonEmpty),
      username: v.optional(v.string()),
      password: v.optional(v.string()),
      local: v.optional(nonEmpty),
      compose: v.optional(v.union([nonEmpty, v.pipe(v.array(nonEmpty), v.minLength(1))], "must be a file name or a list of them")),
    }),
    {},
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
