import {
  type App,
  MAX_PROTOCOL_JSON_BYTES,
  PROTOCOL_JSON,
  PROTOCOL_JSON_SIZE_HINT,
  parseProtocolJson,
} from "../app/app.ts";
import type { GitContext } from "../git/git.ts";
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
