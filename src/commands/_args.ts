import type { ArgsDef } from "citty";
import { choiceArg, parseChoice, parseWholeNumber, wholeNumberArg } from "../lib/core/argv.ts";
import { DEFAULT_INTERVAL } from "../lib/core/backoff.ts";
import { UsageError } from "../lib/core/errors.ts";
import type { DirtyPolicy, DivergedPolicy } from "../lib/node/outcome.ts";

export const dirArgs = {
  dir: {
    type: "string",
    description: "The app's working copy (default: walk up from the current directory)",
    valueHint: "path",
  },
} as const satisfies ArgsDef;

export const jsonArgs = {
  json: { type: "boolean", description: "Print one JSON document on stdout" },
} as const satisfies ArgsDef;

export const yesArgs = {
  yes: { type: "boolean", alias: "y", description: "Take the defaults without asking (needed without a TTY)" },
} as const satisfies ArgsDef;

export const serviceArgs = {
  service: {
    type: "string",
    description: "The compose service (default: docker.service, else the only or first service)",
    valueHint: "name",
  },
} as const satisfies ArgsDef;

export const intervalArgs = {
  interval: wholeNumberArg(`Seconds between polls (overrides git.interval; default ${DEFAULT_INTERVAL})`, "seconds", {
    min: 1,
    unit: "seconds",
    example: DEFAULT_INTERVAL,
  }),
} as const satisfies ArgsDef;

export const policyArgs = {
  "on-dirty": choiceArg("Uncommitted changes: refuse (default) or stash them and go on", ["refuse", "stash"]),
  "on-diverged": choiceArg("Local commits: refuse (default) or keep them as a backup ref and reset", [
    "refuse",
    "reset",
  ]),
} as const satisfies ArgsDef;

export function readPolicies(args: Record<string, unknown>): { onDirty: DirtyPolicy; onDiverged: DivergedPolicy } {
  const { "on-dirty": dirty, "on-diverged": diverged } = policyArgs;
  return {
    onDirty: parseChoice("on-dirty", args["on-dirty"] as string | undefined, dirty.choices, "refuse"),
    onDiverged: parseChoice("on-diverged", args["on-diverged"] as string | undefined, diverged.choices, "refuse"),
  };
}

export function readInterval(args: Record<string, unknown>): number | undefined {
  return parseWholeNumber("interval", args.interval as string | undefined, intervalArgs.interval.wholeNumber);
}

/** config:cp and config:mv: the same paths and flags. */
export const copyArgs = {
  paths: { type: "positional", required: true, description: "Files or directories inside the app", valueHint: "path…" },
  ...dirArgs,
  ...jsonArgs,
  untrack: {
    type: "boolean",
    description: "Allow files the app repo tracks: take them out of its index (git rm --cached)",
  },
} as const satisfies ArgsDef;

/** config:link and config:refresh. */
export const linkArgs = {
  ...dirArgs,
  ...jsonArgs,
  "dry-run": { type: "boolean", description: "Print the plan (links, conflicts) and change nothing" },
  adopt: {
    type: "boolean",
    description: "Move app files in the way into the config repo first (backed up), then link",
  },
  force: {
    type: "boolean",
    description: "Back up app files or foreign links in the way (path printed) and link over them",
  },
  gitignore: {
    type: "boolean",
    description: "Refused: protocol never writes .gitignore (a tracked file); links are ignored in .git/info/exclude",
  },
} as const satisfies ArgsDef;

export function readResolve(args: {
  adopt?: boolean;
  force?: boolean;
  gitignore?: boolean;
}): "none" | "adopt" | "force" {
  if (args.gitignore) {
    throw new UsageError(
      "--gitignore is no longer supported: protocol never writes a tracked file of the app",
      "drop the flag: the links are ignored in .git/info/exclude, local to this clone",
    );
  }
  if (args.adopt && args.force) throw new UsageError("--adopt and --force cannot be used together");
  return args.adopt ? "adopt" : args.force ? "force" : "none";
}

/** fleet and rollout:*: which status remote and environment (default: the app's protocol.json and env). */
export const fleetArgs = {
  env: {
    type: "string",
    description: "The environment (default: the app's, else every one for fleet)",
    valueHint: "env",
  },
  remote: {
    type: "string",
    description: "The status remote's URL (default: rollout.statusRemote in protocol.json)",
    valueHint: "url",
  },
} as const satisfies ArgsDef;

export const supervisorArgs = {
  supervisor: choiceArg(
    "Who keeps the loops running: cron (default: background loops and an @reboot line) or systemd (a unit per loop, Restart=always); recorded with the node",
    ["cron", "systemd"],
  ),
} as const satisfies ArgsDef;
