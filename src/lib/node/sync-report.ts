import { DiskFullError, NetworkError, PreconditionError, StepFailedError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import type { SyncOutcome } from "./outcome.ts";

/** Tell the operator what a sync did (successes only; failures are thrown by throwForOutcome). */
export function renderSyncOutcome(outcome: SyncOutcome): void {
  if (outcome.result === "up-to-date") log.success(`up to date at ${shortSha(outcome.to)}`);
  if (outcome.result === "deployed") {
    log.success(
      `deployed ${shortSha(outcome.from)} → ${shortSha(outcome.to)}${outcome.composeRan ? "" : " (no compose file: docker skipped)"}`,
    );
    if (outcome.keptAs) log.info(`local work kept as ${outcome.keptAs}`);
  }
  // Not a failure: the rollout deploys it when the node's wave comes.
  if (outcome.result === "waiting") log.info(`${shortSha(outcome.remoteCommit)}: ${outcome.error} (${outcome.hint})`);
}

/** A sync that refused or failed is an error for a one-shot command, with the exit code for its kind. */
export function throwForOutcome(outcome: SyncOutcome): void {
  // "error: error: …" reads badly: an error (and "disk full: …") is its message; other outcomes say what they are.
  const plain = outcome.result === "error" || outcome.result === "disk-full";
  const message = plain ? `${outcome.error}` : `${outcome.result}: ${outcome.error}`;
  switch (outcome.result) {
    case "dirty":
    case "ahead":
    case "diverged":
      throw new PreconditionError(message, outcome.hint);
    case "paused":
    case "quarantined":
    case "held":
      throw new PreconditionError(message, outcome.hint);
    case "unreachable":
      throw new NetworkError(message, outcome.hint);
    case "disk-full":
      throw new DiskFullError(message, outcome.hint);
    case "error":
    case "rolled-back":
      throw new StepFailedError(message, outcome.hint);
  }
}
