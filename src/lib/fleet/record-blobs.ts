/**
 * Reading record.json out of the fetched record commits, under a size cap. A record is a few
 * hundred bytes; a bigger blob is never read into memory, and it is not kept either: its refs are
 * dropped from the scratch repo, its objects pruned, and its commit remembered as refused so that
 * later reads do not fetch it again while the node's ref still points at it.
 */
import { join } from "node:path";
import * as v from "valibot";
import { writeJsonAtomic } from "../core/fs.ts";
import { readJsonFile } from "../core/json-file.ts";
import { type GitContext, git } from "../git/git.ts";
import { parseBatchCheck } from "../git/parse.ts";
import { readBlobs } from "../git/tree.ts";
import { formatBytes } from "../host/doctor.ts";
import { RECORD_FILE } from "./refs.ts";

/** A record is a few hundred bytes; a bigger one is not read (a hostile node cannot fill memory or disk). */
export const MAX_RECORD_BYTES = 4096;

/** What a record commit holds: its parsed record.json, or why it was not read. */
export type RecordRead = { value: unknown } | { why: string };

const MAX_REFUSED = 1000;
const RefusedSchema = v.record(v.string(), v.string());
const refusedPath = (ctx: GitContext) => join(ctx.dir, "protocol-refused.json");

/** The commits refused before (commit → why), which are not fetched again. */
export function refusedCommits(ctx: GitContext): Map<string, string> {
  return new Map(Object.entries(readJsonFile(refusedPath(ctx), RefusedSchema, {})));
}

/** record.json of each commit, parsed; a missing, oversized or non-JSON one says why instead. */
export async function readRecords(
  ctx: GitContext,
  commits: string[],
  refused: Map<string, string>,
): Promise<Map<string, RecordRead>> {
  const out = new Map<string, RecordRead>();
  const asked = commits.filter((commit) => !refused.has(commit));
  const check = asked.length
    ? await git(ctx, ["cat-file", "--batch-check"], {
        input: `${asked.map((c) => `${c}:${RECORD_FILE}`).join("\n")}\n`,
      })
    : null;
  const entries = check?.ok ? parseBatchCheck(check.stdout, asked.length) : [];
  const blobs = new Map<string, string>();
  const oversized = new Map<string, string>();
  asked.forEach((commit, i) => {
    const entry = entries[i];
    if (entry?.type !== "blob") out.set(commit, { why: `no ${RECORD_FILE} in its commit` });
    else if (entry.size > MAX_RECORD_BYTES)
      oversized.set(
        commit,
        `${RECORD_FILE} is ${formatBytes(entry.size)}, over the ${formatBytes(MAX_RECORD_BYTES)} cap: not read, not kept`,
      );
    else blobs.set(commit, entry.object);
  });
  const texts = await readBlobs(ctx, [...new Set(blobs.values())]);
  for (const [commit, blob] of blobs) {
    try {
      out.set(commit, { value: JSON.parse(texts.get(blob) ?? "") });
    } catch {
      out.set(commit, { why: `${RECORD_FILE} is not JSON` });
    }
  }
  await forget(ctx, refused, oversized);
  for (const commit of commits) {
    const why = refused.get(commit) ?? oversized.get(commit);
    if (why) out.set(commit, { why });
  }
  return out;
}

/** Drop the oversized commits from the scratch repo (their refs, then every object no ref reaches) and remember them. */
async function forget(ctx: GitContext, refused: Map<string, string>, oversized: Map<string, string>): Promise<void> {
  if (oversized.size === 0) return;
  // The newest MAX_REFUSED: a fleet read of every environment also forgets those no ref points at.
  const memory = [...refused, ...oversized].slice(-MAX_REFUSED);
  writeJsonAtomic(refusedPath(ctx), Object.fromEntries(memory), false);
  const listed = await git(ctx, ["for-each-ref", "--format=%(objectname) %(refname)"]);
  const deletes = listed.stdout
    .split("\n")
    .map((line) => line.split(" "))
    .filter(([commit, ref]) => ref && oversized.has(commit!))
    .map(([, ref]) => `delete ${ref}\n`);
  await git(ctx, ["update-ref", "--stdin"], { input: deletes.join("") });
  await git(ctx, ["gc", "--prune=now", "--quiet"]);
}

/** Forget the refused commits no ref points at any more (the node wrote a new record). */
export function pruneRefused(ctx: GitContext, refused: Map<string, string>, current: string[]): void {
  const kept = [...refused].filter(([commit]) => current.includes(commit));
  if (kept.length < refused.size) writeJsonAtomic(refusedPath(ctx), Object.fromEntries(kept), false);
}
