import { basename, join } from "node:path";
import { existsSync } from "node:fs";
import type { App } from "./app.ts";
import { PROTOCOL_JSON } from "./app.ts";
import { composeFiles } from "../docker/docker.ts";
import { currentBranch, localRemoteHead, remoteUrl, upstreamBranch } from "../git/git.ts";
import type { ProtocolJson } from "../schema/protocol-json.ts";

/** Strip credentials from a remote URL: protocol.json is committed. */
export function redactUrl(url: string): string {
  return url.replace(/^(\w+:\/\/)[^@/]+@/, (_, scheme: string) => scheme);
}

/** protocol.json as the repo's state suggests it: remote URL, branch, compose file. */
export async function proposeProtocolJson(app: App): Promise<ProtocolJson> {
  const ctx = { dir: app.dir };
  const remotename = "origin";
  const url = await remoteUrl(ctx, remotename);
  const branch = (await upstreamBranch(ctx, remotename)) ?? (await localRemoteHead(ctx, remotename)) ?? (await currentBranch(ctx));
  const compose = composeFiles(app);
  return {
    name: basename(app.dir).replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "") || "app",
    git: {
      ...(url ? { remote: redactUrl(url) } : {}),
      ...(branch ? { branch } : {}),
      remotename,
      interval: 10,
    },
    docker: compose.length > 0 ? { compose: compose.length === 1 ? compose[0] : compose } : {},
    configuration: {},
  };
}

export function protocolJsonPath(app: App): string {
  return join(app.dir, PROTOCOL_JSON);
}

export function hasProtocolJson(app: App): boolean {
  return existsSync(protocolJsonPath(app));
}
