import type { ProtocolJson } from "../schema/protocol-json.ts";
import type { NodeState } from "../schema/state.ts";

/** compose's rule for project names: lower-case letters, digits, '-' and '_', starting with a letter or digit. */
function projectSafe(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, "")
      .replace(/^[-_]+/, "") || "app"
  );
}

/** A new checkout's project: the app's name and a short hash of the checkout's absolute path. */
export function defaultProject(name: string, dir: string): string {
  return `${projectSafe(name)}-${new Bun.CryptoHasher("sha256").update(dir).digest("hex").slice(0, 8)}`;
}

/**
 * The compose project of a checkout. compose's own default (the dir's name) and the app's name
 * both collide when two checkouts of one app share a host (/srv/shop and /srv2/shop): deploying one
 * would recreate the other's containers. So: `docker.project`; else the project this checkout's
 * deploys have used (recorded in its state, so a rename never orphans running containers); else,
 * for a checkout an older protocol deployed as its bare name, that name; else name + path hash.
 */
export function resolveProject(
  config: ProtocolJson,
  name: string,
  dir: string,
  state: Pick<NodeState, "project" | "deployedCommit">,
): string {
  const configured = config.docker?.project;
  if (configured) return configured;
  if (state.project) return state.project;
  if (state.deployedCommit) return projectSafe(name);
  return defaultProject(name, dir);
}
