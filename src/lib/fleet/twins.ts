/**
 * Two machines under one node id: each overwrites the other's record, and the fleet sees one node
 * that flips between two states. A node remembers the record commit it pushed last (a local ref
 * in its scratch repo) and pushes the next one with that as its lease: no extra request while it
 * is the ref's only writer. When the ref holds another commit, it reads that record, and one
 * written by another machine is a conflict, put into the node's record and its state, so fleet,
 * status and doctor show it.
 */
import * as v from "valibot";
import { NetworkError, StepFailedError } from "../core/errors.ts";
import { type GitContext, git } from "../git/git.ts";
import { type Conflict, FleetRecordSchema } from "../schema/fleet.ts";
import { fetchRecords, readRecords, refusedCommits } from "./record-blobs.ts";
import { haveCommits, listRefs, pushRef } from "./refs.ts";

/** Where the scratch repo keeps the commit this machine last pushed to `ref`. */
const pushedRef = (ref: string) => ref.replace(/^refs\/protocol\/fleet\//, "refs/protocol/pushed/");

async function lastPushed(ctx: GitContext, ref: string): Promise<string | null> {
  const pushed = await git(ctx, ["rev-parse", "--verify", "--quiet", pushedRef(ref)]);
  return pushed.ok ? pushed.stdout.trim() : null;
}

/**
 * Push this machine's record to its ref: `write` makes the record commit (given the conflict
 * found, if any). Returns the conflict: null while this machine is the ref's only writer.
 */
export async function pushOwnRecord(
  ctx: GitContext,
  url: string,
  ref: string,
  machine: string,
  write: (conflict: Conflict | null) => Promise<string>,
): Promise<Conflict | null> {
  const lease = await lastPushed(ctx, ref);
  let conflict: Conflict | null = null;
  let commit = await write(null);
  try {
    await pushRef(ctx, url, ref, commit, lease);
  } catch (error) {
    // Refused for its lease, or failed? A remote that did not answer is the latter; otherwise only
    // a ref that moved says the former.
    if (error instanceof NetworkError || (error instanceof StepFailedError && error.infrastructure)) throw error;
    const own = await readOwnRef(ctx, url, ref, machine);
    if (own.commit === lease) throw error;
    conflict = own.conflict;
    commit = await write(conflict);
    await pushRef(ctx, url, ref, commit);
  }
  await git(ctx, ["update-ref", pushedRef(ref), commit]);
  return conflict;
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
  if ((await lastPushed(ctx, ref)) === commit) return { commit, conflict: null };
  if (!refusedCommits(ctx).has(commit) && !(await haveCommits(ctx, [commit])).has(commit))
    await fetchRecords(ctx, url, [ref], [ref]);
  const read = (await readRecords(ctx, [commit])).get(commit);
  const record = read && "value" in read ? v.safeParse(FleetRecordSchema, read.value) : null;
  if (!record?.success || !record.output.machine || record.output.machine === machine)
    return { commit, conflict: null };
  return { commit, conflict: { machine: record.output.machine, at: record.output.at } };
}
