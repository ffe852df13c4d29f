/** What one sync leaves in the node's state file, and the loop's log line about it. */
import type { App } from "../app/app.ts";
import { readNodeState, writeNodeState } from "../app/state.ts";
import type { SyncOutcome } from "./outcome.ts";
import { announceSync, newsOfSync } from "./sync-announce.ts";

/** While nothing changes, the poll's record (lastSync.at, remoteSeenAt) is refreshed at most this often. */
export const QUIET_WRITE_MS = 60_000;

export function recordOutcome(app: App, result: SyncOutcome, durationMs: number, announce: boolean): void {
  const previous = readNodeState(app.paths.status);
  const failing = result.result === "unreachable" || result.result === "error";
  const failures = failing ? previous.failures + 1 : 0;
  const now = new Date();
  const news = announce ? newsOfSync(previous, result, now.getTime()) : null;
  const same =
    news === null &&
    previous.lastSync?.result === result.result &&
    previous.lastSync.error === result.error &&
    previous.failures === failures &&
    (!result.remoteCommit || result.remoteCommit === previous.remoteCommit) &&
    now.getTime() - Date.parse(previous.lastSync.at) < QUIET_WRITE_MS;
  // The idle poll writes nothing: an unchanged record is rewritten once a minute, without fsync.
  if (!same) {
    writeNodeState(
      app.paths.status,
      {
        ...previous,
        ...(result.remoteCommit ? { remoteCommit: result.remoteCommit, remoteSeenAt: now.toISOString() } : {}),
        lastSync: { at: now.toISOString(), result: result.result, error: result.error, durationMs },
        failures,
        ...(news ? { announced: { result: result.result, error: result.error, at: now.toISOString() } } : {}),
      },
      false,
    );
  }
  if (news) announceSync(result, durationMs, previous, news, failures);
}
