import { assertProtocolJsonSize, PROTOCOL_JSON, parseProtocolJson } from "../app/app.ts";
import { type GitContext, git } from "../git/git.ts";
import type { ProtocolJson } from "../schema/protocol-json.ts";

/** The protocol.json of a commit not checked out yet (an incoming one), validated and size-capped; defaults when it has none. */
export async function protocolJsonAt(ctx: GitContext, sha: string): Promise<ProtocolJson> {
  const where = `${PROTOCOL_JSON} at ${sha.slice(0, 8)}`;
  const size = await git(ctx, ["cat-file", "-s", `${sha}:${PROTOCOL_JSON}`]);
  if (size.ok) assertProtocolJsonSize(Number(size.stdout.trim()), where);
  const shown = await git(ctx, ["show", `${sha}:${PROTOCOL_JSON}`]);
  return parseProtocolJson(shown.ok ? shown.stdout : "{}", where);
}
