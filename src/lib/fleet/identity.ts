import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/fs.ts";
import { nodeEnv } from "../core/node-env.ts";
import { stateHome } from "../core/paths.ts";
import { nodeIdProblem } from "../schema/node-id.ts";

export interface NodeIdentity {
  id: string;
  source: "PROTOCOL_NODE_ID" | "machine-id" | "hostname";
}

/** A host name as a node id: anything git would refuse in a ref becomes '-'. Pure. */
export function hostnameAsNodeId(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 64)
    .replace(/(\.lock|[.])+$/, "");
  return cleaned || "node";
}

/**
 * This node's id: PROTOCOL_NODE_ID, else /etc/machine-id, else the host name. It picks the node's
 * wave and names its ref on the status remote, so it must be stable and unique in the fleet
 * (cloned VM images share a machine-id: give such nodes PROTOCOL_NODE_ID).
 */
export function nodeIdentity(
  env: Record<string, string | undefined> = nodeEnv(),
  machineIdPath = "/etc/machine-id",
): NodeIdentity {
  const given = env.PROTOCOL_NODE_ID;
  if (given) {
    const problem = nodeIdProblem(given);
    if (problem)
      throw new ConfigError(
        `PROTOCOL_NODE_ID ${JSON.stringify(given.slice(0, 80))} ${problem}`,
        "set it to a plain name such as web-1, or unset it to use /etc/machine-id",
      );
    return { id: given, source: "PROTOCOL_NODE_ID" };
  }
  try {
    const machineId = readFileSync(machineIdPath, "utf8").trim();
    if (/^[0-9a-f]{32}$/.test(machineId)) return { id: machineId, source: "machine-id" };
  } catch {
    // containers and minimal images have none
  }
  return { id: hostnameAsNodeId(hostname()), source: "hostname" };
}

/**
 * The machine that writes this node's record: its host name and a random id kept in the state dir
 * (cloned VMs may share a machine-id and even a host name, never a freshly made random id). Two
 * records under one node id from different machines mean two machines share the id.
 */
export function machineName(home = stateHome()): string {
  const path = join(home, "fleet", "machine");
  let id = "";
  try {
    id = readFileSync(path, "utf8").trim();
  } catch {
    // made below, on first use
  }
  if (!/^[0-9a-f]{12}$/.test(id)) {
    id = Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString("hex");
    try {
      writeFileAtomic(path, `${id}\n`);
    } catch {
      // a read-only or full state dir: the host name alone tells machines apart less well
      return hostnameAsNodeId(hostname());
    }
  }
  return `${hostnameAsNodeId(hostname())}/${id}`;
}
