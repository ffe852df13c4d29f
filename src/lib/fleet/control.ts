/** What people write to the status remote: a freeze of an environment, a release of a held commit. */
import { hostname, userInfo } from "node:os";
import { UsageError } from "../core/errors.ts";
import type { FreezeRecord, ReleaseRecord } from "../schema/fleet.ts";
import { freezeRef, listRefs, pushRef, releaseRef, scratchRepo, writeRecordCommit } from "./refs.ts";

function author(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return hostname();
  }
}

export async function freezeEnv(url: string, env: string, reason: string): Promise<FreezeRecord> {
  const record: FreezeRecord = { reason: reason.slice(0, 500), by: author(), at: new Date().toISOString() };
  const ctx = await scratchRepo(url);
  await pushRef(ctx, url, freezeRef(env), await writeRecordCommit(ctx, record, `freeze ${env}: ${record.reason}`));
  return record;
}

/** Lift the freeze; false when there was none (safe to run twice). */
export async function unfreezeEnv(url: string, env: string): Promise<boolean> {
  const ctx = await scratchRepo(url);
  const ref = freezeRef(env);
  if (!(await listRefs(ctx, url, [ref])).has(ref)) return false;
  await pushRef(ctx, url, ref, null);
  return true;
}

/** A commit id as given on the command line (7 to 64 hex digits, as `fleet` and `deploy:log` show them). */
export function parseCommitArg(value: string): string {
  const commit = value.trim().toLowerCase();
  if (!/^[0-9a-f]{7,64}$/.test(commit))
    throw new UsageError(
      `${JSON.stringify(value)} is not a commit id`,
      "give at least 7 hex digits, as protocol fleet shows them",
    );
  return commit;
}

export async function releaseCommit(url: string, env: string, commit: string): Promise<ReleaseRecord> {
  const record: ReleaseRecord = { commit, by: author(), at: new Date().toISOString() };
  const ctx = await scratchRepo(url);
  await pushRef(ctx, url, releaseRef(env, commit), await writeRecordCommit(ctx, record, `release ${commit} in ${env}`));
  return record;
}
