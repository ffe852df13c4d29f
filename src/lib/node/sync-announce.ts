/** What the loop's log says of a sync: a line per change of outcome (core/announce.ts decides when). */
import { newsOf } from "../core/announce.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import type { NodeState } from "../schema/state.ts";
import type { SyncOutcome } from "./outcome.ts";

/** Every deploy and rollback is news; any other outcome when it changes, or an hour on for a failure. */
export function newsOfSync(previous: NodeState, result: SyncOutcome, now: number): "change" | "repeat" | null {
  if (result.result === "deployed" || result.result === "rolled-back") return "change";
  const quiet = result.result === "up-to-date";
  // Waiting for a wave is said once, not again hourly: it is not a failure.
  const news = newsOf(previous.announced, { ...result, failing: !quiet && result.result !== "waiting" }, now);
  // The poll after a deploy finds the node up to date: that is not news.
  return quiet && previous.announced?.result === "deployed" ? null : news;
}

/** `why` without a first word that says the result again ("disk full: …" after "sync disk-full"). */
export function withoutResult(result: string, why: string): string {
  const said = `${result.replaceAll("-", " ")}: `;
  return why.startsWith(said) ? why.slice(said.length) : why;
}

/** The loop's line for an outcome: what happened, and why when it did not go as it should. */
export function announceSync(
  result: SyncOutcome,
  durationMs: number,
  previous: NodeState,
  news: "change" | "repeat",
  failures: number,
): void {
  const why = `${result.error}${result.hint ? ` (${result.hint})` : ""}`;
  switch (result.result) {
    case "deployed":
      log.success(
        `deployed ${shortSha(result.from)} → ${shortSha(result.to)} in ${(durationMs / 1000).toFixed(1)}s${result.keptAs ? `; local work kept as ${result.keptAs}` : ""}`,
      );
      return;
    case "up-to-date": {
      const was = previous.announced?.result;
      if (was && was !== "up-to-date") log.success(`recovered: up to date at ${shortSha(result.to)} (was ${was})`);
      else log.info(`up to date at ${shortSha(result.to)}`);
      return;
    }
    case "rolled-back":
      log.error(`deploy failed and was rolled back to ${shortSha(result.to)}: ${why}`);
      return;
    case "waiting":
      log.info(`${shortSha(result.remoteCommit)}: ${result.error}`);
      return;
    default: {
      const since = news === "repeat" && previous.announced ? ` since ${previous.announced.at}` : "";
      const count = news === "repeat" && failures > 0 ? ` (${failures} polls in a row)` : "";
      const line = `${news === "repeat" ? "still " : "sync "}${result.result}${since}${count}: ${withoutResult(result.result, why)}`;
      if (result.result === "error") log.error(line);
      else log.warn(line);
    }
  }
}
