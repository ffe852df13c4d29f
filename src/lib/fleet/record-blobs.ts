/**
 * Fetching and reading record.json under a size cap. A record is a few hundred bytes. Changed
 * records are fetched into a throwaway repo first (it borrows the scratch repo's objects, so
 * nothing known is fetched again); only those under the cap move on into the scratch repo. A
 * bigger one is never read into memory nor kept: its commit is remembered as refused, and not
 * fetched again while its ref points at it.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { writeJsonAtomic } from "../core/fs.ts";
import { readJsonFile } from "../core/json-file.ts";
import { stepFailure } from "../core/spawn.ts";
import { type GitContext, git, initBareRepo } from "../git/git.ts";
import { parseBatchCheck } from "../git/parse.ts";
import { readBlobs } from "../git/tree.ts";
import { formatBytes } from "../host/doctor.ts";
import { fetchRefs, RECORD_FILE } from "./refs.ts";

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

/** The record.json blob of each commit: its object and size, null when there is none. */
async function recordBlobs(ctx: GitContext, commits: string[]) {
  if (commits.length === 0) return [];
  const input = `${commits.map((c) => `${c}:${RECORD_FILE}`).join("\n")}\n`;
  const check = await git(ctx, ["cat-file", "--batch-check"], { input });
  const entries = check.ok ? parseBatchCheck(check.stdout, commits.length) : [];
  return commits.map((_, i) => (entries[i]?.type === "blob" ? entries[i] : null));
}

const tooBig = (size: number) =>
  `${RECORD_FILE} is ${formatBytes(size)}, over the ${formatBytes(MAX_RECORD_BYTES)} cap: not read, not kept`;

const INCOMING = "incoming-";
/** An incoming repo this old was left by a process killed mid-fetch (a live one lasts seconds). */
const LEFT_BEHIND_MS = 3_600_000;

function sweepIncoming(ctx: GitContext): void {
  for (const name of readdirSync(ctx.dir).filter((entry) => entry.startsWith(INCOMING))) {
    const path = join(ctx.dir, name);
    if (Date.now() - statSync(path).mtimeMs > LEFT_BEHIND_MS) rmSync(path, { recursive: true, force: true });
  }
}

/**
 * Fetch `refs` (the changed ones) through a throwaway repo: those whose record is over the cap
 * stay out of the scratch repo and are remembered as refused.
 */
export async function fetchRecords(ctx: GitContext, url: string, refs: string[], patterns: string[]): Promise<void> {
  if (refs.length === 0) return;
  sweepIncoming(ctx);
  const dir = mkdtempSync(join(ctx.dir, INCOMING));
  try {
    await initBareRepo(dir);
    writeFileSync(join(dir, "objects", "info", "alternates"), `${join(ctx.dir, "objects")}\n`);
    const incoming = { ...ctx, dir };
    await fetchRefs(incoming, url, refs, patterns);
    const listed = (await git(incoming, ["for-each-ref", "--format=%(objectname) %(refname)"])).stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split(" ") as [string, string]);
    const blobs = await recordBlobs(
      incoming,
      listed.map(([commit]) => commit),
    );
    const oversized = new Map<string, string>();
    const keep: string[] = [];
    listed.forEach(([commit, ref], i) => {
      const size = blobs[i]?.size ?? 0;
      if (size > MAX_RECORD_BYTES) oversized.set(commit, tooBig(size));
      else keep.push(`+${ref}:${ref}\n`);
    });
    if (keep.length > 0) {
      const args = ["fetch", "--no-tags", "--no-write-fetch-head", "--quiet", "--stdin", "--", dir];
      const moved = await git(ctx, args, { input: keep.join("") });
      if (!moved.ok) throw stepFailure(`git fetch from ${dir}`, moved);
    }
    if (oversized.size > 0) {
      // The newest MAX_REFUSED: a fleet read of every environment also forgets those no ref points at.
      const memory = [...refusedCommits(ctx), ...oversized].slice(-MAX_REFUSED);
      writeJsonAtomic(refusedPath(ctx), Object.fromEntries(memory), false);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** record.json of each commit, parsed; a refused, missing, oversized or non-JSON one says why instead. */
export async function readRecords(ctx: GitContext, commits: string[]): Promise<Map<string, RecordRead>> {
  const out = new Map<string, RecordRead>();
  const refused = refusedCommits(ctx);
  const asked = commits.filter((commit) => !refused.has(commit));
  const entries = await recordBlobs(ctx, asked);
  const blobs = new Map<string, string>();
  asked.forEach((commit, i) => {
    const entry = entries[i];
    if (!entry) out.set(commit, { why: `no ${RECORD_FILE} in its commit` });
    else if (entry.size > MAX_RECORD_BYTES) out.set(commit, { why: tooBig(entry.size) });
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
  for (const commit of commits) {
    const why = refused.get(commit);
    if (why) out.set(commit, { why });
  }
  return out;
}

/** Forget the refused commits no ref points at any more (the node wrote a new record). */
export function pruneRefused(ctx: GitContext, current: string[]): void {
  const refused = refusedCommits(ctx);
  const kept = [...refused].filter(([commit]) => current.includes(commit));
  if (kept.length < refused.size) writeJsonAtomic(refusedPath(ctx), Object.fromEntries(kept), false);
}
