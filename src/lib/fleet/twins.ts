/**
 * Two machines under one node id: each overwrites the other's record, and the fleet sees one node
 * that flips between two states. A node remembers the record commit it pushed last (a local ref
 * in its scratch repo); when the status remote's ref holds another commit, it reads that record,
 * and a record written by another machine is a conflict, put into the node's next record and its
 * state, so fleet, status and doctor show it.
 */
import * as v from "valibot";
import { type GitContext, git } from "../git/git.ts";
import { type Conflict, FleetRecordSchema } from "../schema/fleet.ts";
import { readRecords, refusedCommits } from "./record-blobs.ts";
import { fetchRefs, haveCommits, listRefs } from "./refs.ts";

/** Where the scratch repo keeps the commit this machine last pushed to `ref`. */
const pushedRef = (ref: string) => ref.replace(/^refs\/protocol\/fleet\//, "refs/protocol/pushed/");

export async function rememberPushed(ctx: GitContext, ref: string, commit: string): Promise<void> {
  await git(ctx, ["update-ref", pushedRef(ref), commit]);
}

export interface OwnRef {
  /** The commit the status remote's ref points at, or null. */
  commit: string | null;
  /** It holds a record another machine wrote. */
  conflict: Conflict | null;
}

/** The status remote's record for this node id, and whether another machine than `machine` wrote it. */
export async function readOwnRef(ctx: GitContext, url: string, ref: string, machine: string): Promise<OwnRef> {
  const commit = (await listRefs(ctx, url, [ref])).get(ref) ?? null;
  if (!commit) return { commit, conflict: null };
  const pushed = await git(ctx, ["rev-parse", "--verify", "--quiet", pushedRef(ref)]);
  if (pushed.ok && pushed.stdout.trim() === commit) return { commit, conflict: null };
  const refused = refusedCommits(ctx);
  if (!refused.has(commit) && !(await haveCommits(ctx, [commit])).has(commit)) await fetchRefs(ctx, url, [ref], [ref]);
  const read = (await readRecords(ctx, [commit], refused)).get(commit);
  const record = read && "value" in read ? v.safeParse(FleetRecordSchema, read.value) : null;
  if (!record?.success || !record.output.machine || record.output.machine === machine)
    return { commit, conflict: null };
  return { commit, conflict: { machine: record.output.machine, at: record.output.at } };
}
