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
import { fetchRecords, pruneRefused, type RecordRead, readRecords, refusedCommits } from "./record-blobs.ts";
import { haveCommits, listRefs, scratchRepo } from "./refs.ts";

export interface EnvView {
  records: FleetRecord[];
  freeze: FreezeRecord | null;
  releases: ReleaseRecord[];
  /** Refs whose record could not be read or does not match its ref (ignored), and why. */
  ignored: Ignored[];
}

export interface Ignored {
  ref: string;
  /** For a node's record: the node its ref names. */
  node?: string;
  why: string;
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
  const refused = refusedCommits(ctx);
  const changed = [...refs].filter(([, commit]) => !have.has(commit) && !refused.has(commit)).map(([ref]) => ref);
  await fetchRecords(ctx, url, changed, patterns);
  const data = await readRecords(ctx, commits);
  // Only a read of every environment sees every ref that may point at a refused commit.
  if (env === null) pruneRefused(ctx, commits);
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
    const read = data.get(commit) ?? { why: "not fetched" };
    const value = "value" in read ? read.value : undefined;
    if (parsed.kind === "record") {
      const record = v.safeParse(FleetRecordSchema, value);
      if (record.success && record.output.node === parsed.node && record.output.env === parsed.env)
        target.records.push(record.output);
      else target.ignored.push({ ref, node: parsed.node, why: whyIgnored(read, record, parsed) });
    } else if (parsed.kind === "freeze") {
      const freeze = v.safeParse(FreezeRecordSchema, value);
      if (freeze.success) target.freeze = freeze.output;
      // An unreadable freeze record still freezes: whoever wrote it meant to stop the fleet.
      else target.freeze = { reason: "(unreadable freeze record)", by: "?", at: "?" };
    } else {
      const release = v.safeParse(ReleaseRecordSchema, value);
      if (release.success && release.output.commit === parsed.commit) target.releases.push(release.output);
      else target.ignored.push({ ref, why: "value" in read ? "not a release record for its ref" : read.why });
    }
  }
  return view;
}

function whyIgnored(
  read: RecordRead,
  record: v.SafeParseResult<typeof FleetRecordSchema>,
  ref: { env: string; node: string },
): string {
  if ("why" in read) return read.why;
  if (!record.success) return `not a fleet record (${v.summarize(record.issues).split("\n")[0]})`;
  return record.output.node !== ref.node
    ? `its record names node ${JSON.stringify(record.output.node)}, not ${ref.node}`
    : `its record names env ${JSON.stringify(record.output.env)}, not ${ref.env}`;
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

/** A report dated this far ahead of the reader's clock is "clock ahead" rather than fresh. */
export const CLOCK_SKEW_MS = 60_000;

/** Whether a record's time is ahead of `now` (or not a time at all): it says nothing about freshness. Pure. */
export function clockAhead(record: Pick<FleetRecord, "at">, now: number): boolean {
  const at = Date.parse(record.at);
  return Number.isNaN(at) || at > now + CLOCK_SKEW_MS;
}

/**
 * The nodes not heard from: the fleet's newest commit (that of the newest report) was first reported
 * more than `staleMs` ago, and these nodes have not reported it since. An idle fleet, whose nodes
 * all reported the same commit, has no stale node. A report dated in the future (a clock ahead, or a
 * forged record) never counts as the newest, so one node cannot turn staleness off for all. Pure.
 */
export function staleNodes(records: FleetRecord[], now: number, staleMs: number): Set<string> {
  const reports = records.filter((r) => r.result !== "error" && !clockAhead(r, now));
  const time = (r: FleetRecord) => Math.min(Date.parse(r.at), now);
  const newest = reports.reduce<FleetRecord | null>((a, r) => (!a || time(r) > time(a) ? r : a), null);
  if (!newest) return new Set();
  const firstAt = Math.min(...reports.filter((r) => r.commit === newest.commit).map(time));
  if (now - firstAt <= staleMs) return new Set();
  return new Set(records.filter((r) => r.commit !== newest.commit).map((r) => r.node));
}
