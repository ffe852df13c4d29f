import {
  type App,
  MAX_PROTOCOL_JSON_BYTES,
  PROTOCOL_JSON,
  PROTOCOL_JSON_SIZE_HINT,
  parseProtocolJson,
} from "../app/app.ts";
import { readNodeState } from "../app/state.ts";
import { gitContext } from "../git/auth.ts";
import { type GitContext, git, headCommit } from "../git/git.ts";
import { showCapped } from "../git/tree.ts";
import type { ProtocolJson } from "../schema/protocol-json.ts";

/** The protocol.json of a commit not checked out yet (an incoming one), validated and size-capped; defaults when it has none. */
export async function protocolJsonAt(ctx: GitContext, sha: string): Promise<ProtocolJson> {
  const where = `${PROTOCOL_JSON} at ${sha.slice(0, 8)}`;
  const text = await showCapped(ctx, sha, PROTOCOL_JSON, {
    cap: MAX_PROTOCOL_JSON_BYTES,
    where,
    hint: PROTOCOL_JSON_SIZE_HINT,
  });
  return parseProtocolJson(text ?? "{}", where);
}

/**
 * The app as it takes the incoming commit: what governs taking it (its rollout, its hooks) from the
 * commit's own protocol.json, the rest (its compose project, its paths) as it runs now. A push can
 * so fix what a push broke: a dead statusRemote, a beforeMove hook that always fails.
 */
export function withIncomingSettings(app: App, incoming: ProtocolJson | null | undefined): App {
  if (!incoming) return app;
  const { hooks: _current, ...deploy } = app.config.deploy ?? {};
  return {
    ...app,
    config: {
      ...app.config,
      rollout: incoming.rollout,
      deploy: { ...deploy, ...(incoming.deploy?.hooks ? { hooks: incoming.deploy.hooks } : {}) },
    },
  };
}

/**
 * The app as its next deploy is governed: by the incoming commit (the remote's tip last seen, once
 * fetched) when there is one, else by the protocol.json on disk. What `deploy:hooks` shows.
 */
export async function nextDeploySettings(app: App): Promise<{ app: App; incoming: string | null }> {
  const ctx = gitContext(app);
  const tip = readNodeState(app.paths.status).remoteCommit;
  if (!tip || tip === (await headCommit(ctx))) return { app, incoming: null };
  if (!(await git(ctx, ["cat-file", "-e", `${tip}^{commit}`])).ok) return { app, incoming: null };
  try {
    return { app: withIncomingSettings(app, await protocolJsonAt(ctx, tip)), incoming: tip };
  } catch {
    // Invalid there: its deploy is refused before any hook runs.
    return { app, incoming: null };
  }
}
