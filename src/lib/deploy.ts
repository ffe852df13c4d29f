import type { App } from "./app.ts";
import { composeDeploy, composeFiles } from "./docker.ts";
import { errorMessage } from "./errors.ts";
import { log } from "./log.ts";
import { appendDeploy, updateNodeState } from "./state.ts";

export interface DeployRequest {
  /** The commit that was deployed before (null on a node's first deploy). */
  from: string | null;
  /** The commit now checked out, to bring up. */
  to: string;
  /** Work moved aside to make the deploy possible (stash commit, backup ref). */
  keptAs?: string | null;
}

export interface DeployResult {
  ok: boolean;
  error: string | null;
  composeRan: boolean;
}

/**
 * Bring the containers up for the commit now checked out and record the deploy in the history.
 * Only called when something changed: the commit (later also the linked config or an image digest).
 */
export async function deployApp(app: App, request: DeployRequest): Promise<DeployResult> {
  const startedAt = new Date();
  const composeRan = composeFiles(app).length > 0;
  let error: string | null = null;
  if (!composeRan) {
    log.info("no compose file in the app: docker steps skipped");
  } else {
    try {
      await composeDeploy(app);
    } catch (caught) {
      error = errorMessage(caught);
    }
  }
  appendDeploy(app.paths.deploys, {
    from: request.from,
    to: request.to,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    result: error ? "failed" : "deployed",
    error,
    keptAs: request.keptAs ?? null,
    compose: composeRan,
  });
  if (!error) updateNodeState(app.paths.status, { deployedCommit: request.to });
  return { ok: !error, error, composeRan };
}
