import type { NodeState } from "../schema/state.ts";

/** Whether these digests are the ones a failed deploy of this commit was quarantined for. */
export function isQuarantined(
  state: Pick<NodeState, "quarantine">,
  commit: string,
  digests: Record<string, string> | null,
): boolean {
  const q = state.quarantine;
  if (!q || q.commit !== commit) return false;
  if (q.digests === null) return true;
  if (digests === null) return false;
  const quarantined = q.digests;
  const keys = Object.keys(quarantined);
  return keys.length === Object.keys(digests).length && keys.every((key) => quarantined[key] === digests[key]);
}
