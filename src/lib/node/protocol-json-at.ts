import { MAX_PROTOCOL_JSON_BYTES, PROTOCOL_JSON, PROTOCOL_JSON_SIZE_HINT, parseProtocolJson } from "../app/app.ts";
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
