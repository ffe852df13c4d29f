/** The fleet's record as read from the status remote: each node's last report, the freeze, the releases. */
import * as v from "valibot";
import { shortSha } from "../core/output.ts";
import {
  type FleetRecord,
  FleetRecordSchema,
  type FreezeRecord,
  FreezeRecordSchema,
  type ReleaseRecord,
  ReleaseRecordSchema,
} from "../schema/fleet.ts";
import { nodeIdProblem } from "../schema/node-id.ts";
import { fetchRefs, haveCommits, listRefs, readRecords, scratchRepo } from "./refs.ts";

export interface EnvView {
  records: FleetRecord[];
  freeze: FreezeRecord | null;
  releases: ReleaseRecord[];
  /** Refs whose record could not be read or does not match its ref (ignored). */
  ignored: string[];
}

export type FleetView = Map<string, EnvView>;

type Parsed =
  | { kind: "record"; env: string; node: string }
  | { kind: "freeze"; env: string }
  | { kind: "release"; env: string; commit: string };

/** What a ref on the status remote is. Pure; null for anything else. */
export function parseFleetRef(ref: string): Parsed | null {
  const record = /^refs\/protocol\/fleet\/(.+)\/([^/]+)$/.exec(ref);
  if (record) return nodeIdProblem(record[2]!) ? null : { kind: "record", env: record[1]!, node: record[2]! };
  const freeze = /^refs\/protocol\/control\/(.+)\/freeze$/.exec(ref);
  if (freeze) return { kind: "freeze", env: freeze[1]! };
  const release = /^refs\/protocol\/control\/(.+)\/release\/([0-9a-f]{7,64})$/.exec(ref);
  return release ? { kind: "release", env: release[1]!, commit: release[2]! } : null;
}

/**
 * One `ls-remote` of the environment's refs (or every environment's), a fetch of only the records
 * that changed since the last read, then every record read from the local copy in one git.
 */
export async function readFleet(url: string, env: string | null): Promise<FleetView> {
  const ctx = await scratchRepo(url);
  const patterns = env
    ? [`refs/protocol/fleet/${env}/*`, `refs/protocol/control/${env}/*`]
    : ["refs/protocol/fleet/*", "refs/protocol/control/*"];
  const refs = await listRefs(ctx, url, patterns);
  const commits = [...new Set(refs.values())];
  const have = await haveCommits(ctx, commits);
  const changed = [...refs].filter(([, commit]) => !have.has(commit)).map(([ref]) => ref);
  await fetchRefs(ctx, url, changed, patterns);
  const data = await readRecords(ctx, commits);
  const view: FleetView = new Map();
  const viewOf = (name: string) => {
    const entry = view.get(name) ?? { records: [], freeze: null, releases: [], ignored: [] };
    view.set(name, entry);
    return entry;
  };
  for (const [ref, commit] of [...refs].sort(([a], [b]) => a.localeCompare(b))) {
    const parsed = parseFleetRef(ref);
    if (!parsed || (env !== null && parsed.env !== env)) continue;
    const target = viewOf(parsed.env);
    const value = data.get(commit);
    if (parsed.kind === "record") {
      const record = v.safeParse(FleetRecordSchema, value);
      if (record.success && record.output.node === parsed.node && record.output.env === parsed.env)
        target.records.push(record.output);
      else target.ignored.push(ref);
    } else if (parsed.kind === "freeze") {
      const freeze = v.safeParse(FreezeRecordSchema, value);
      if (freeze.success) target.freeze = freeze.output;
      // An unreadable freeze record still freezes: whoever wrote it meant to stop the fleet.
      else target.freeze = { reason: "(unreadable freeze record)", by: "?", at: "?" };
    } else {
      const release = v.safeParse(ReleaseRecordSchema, value);
      if (release.success && release.output.commit === parsed.commit) target.releases.push(release.output);
      else target.ignored.push(ref);
    }
  }
  return view;
}

export interface Hold {
  kind: "canary" | "freeze";
  message: string;
  node: string | null;
}

/**
 * Whether a node holds `commit`: the environment is frozen, or another node reported it failed or
 * rolled back (and no one released it by hand). An infrastructure error is not the commit's fault. Pure.
 */
export function holdFor(view: EnvView | undefined, commit: string, self: string): Hold | null {
  if (!view) return null;
  if (view.freeze)
    return {
      kind: "freeze",
      message: `frozen since ${view.freeze.at} by ${view.freeze.by}: ${view.freeze.reason} (protocol rollout:unfreeze lifts it)`,
      node: null,
    };
  if (view.releases.some((release) => commit.startsWith(release.commit))) return null;
  const failed = view.records
    .filter((r) => r.commit === commit && r.node !== self && (r.result === "failed" || r.result === "rolled-back"))
    .sort((a, b) => a.at.localeCompare(b.at))[0];
  if (!failed) return null;
  return {
    kind: "canary",
    message: `canary ${failed.node} failed ${shortSha(commit)} at ${failed.at}${failed.error ? `: ${failed.error}` : ""}`,
    node: failed.node,
  };
}

/**
 * The nodes not heard from: the fleet's newest commit (that of the newest report) was first reported
 * more than `staleMs` ago, and these nodes have not reported it since. An idle fleet, whose nodes
 * all reported the same commit, has no stale node. Pure.
 */
export function staleNodes(records: FleetRecord[], now: number, staleMs: number): Set<string> {
  const reports = records.filter((r) => r.result !== "error");
  const newest = reports.reduce<FleetRecord | null>((a, r) => (!a || r.at > a.at ? r : a), null);
  if (!newest) return new Set();
  const firstAt = Math.min(...reports.filter((r) => r.commit === newest.commit).map((r) => Date.parse(r.at)));
  if (now - firstAt <= staleMs) return new Set();
  return new Set(records.filter((r) => r.commit !== newest.commit).map((r) => r.node));
}
