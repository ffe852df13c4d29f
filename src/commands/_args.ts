import type { ArgsDef } from "citty";
import { parseChoice, parseWholeNumber } from "../lib/core/command.ts";
import type { DirtyPolicy, DivergedPolicy } from "../lib/node/sync.ts";

export const dirArgs = {
  dir: { type: "string", description: "The app's working copy (default: walk up from the current directory)", valueHint: "path" },
} as const satisfies ArgsDef;

export const jsonArgs = {
  json: { type: "boolean", description: "Print one JSON document on stdout" },
} as const satisfies ArgsDef;

export const yesArgs = {
  yes: { type: "boolean", alias: "y", description: "Take the defaults without asking (needed without a TTY)" },
} as const satisfies ArgsDef;

export const serviceArgs = {
  service: { type: "string", description: "The compose service (default: docker.service, else the only or first service)", valueHint: "name" },
} as const satisfies ArgsDef;

export const intervalArgs = {
  interval: { type: "string", description: "Seconds between polls (overrides git.interval; default 10)", valueHint: "seconds" },
} as const satisfies ArgsDef;

export const policyArgs = {
  "on-dirty": { type: "string", description: "Uncommitted changes: refuse (default) or stash them and go on", valueHint: "refuse|stash" },
  "on-diverged": { type: "string", description: "Local commits: refuse (default) or keep them as a backup ref and reset", valueHint: "refuse|reset" },
} as const satisfies ArgsDef;

export function readPolicies(args: Record<string, unknown>): { onDirty: DirtyPolicy; onDiverged: DivergedPolicy } {
  return {
    onDirty: parseChoice("on-dirty", args["on-dirty"] as string | undefined, ["refuse", "stash"], "refuse"),
    onDiverged: parseChoice("on-diverged", args["on-diverged"] as string | undefined, ["refuse", "reset"], "refuse"),
  };
}

export function readInterval(args: Record<string, unknown>): number | undefined {
  return parseWholeNumber("interval", args.interval as string | undefined);
}
