import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { type App, PROTOCOL_JSON, parseProtocolJson } from "../app/app.ts";
import { DEFAULT_INTERVAL } from "../core/backoff.ts";
import { backupFile } from "../core/backup.ts";
import { PreconditionError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/fs.ts";
import { redactUrl } from "../core/validate.ts";
import { composeFiles } from "../docker/docker.ts";
import { currentBranch, localRemoteHead, remoteUrl, upstreamBranch } from "../git/git.ts";
import type { ProtocolJson } from "../schema/protocol-json.ts";

/** protocol.json as the repo's state suggests it: remote URL, branch, compose file. */
export async function proposeProtocolJson(app: App): Promise<ProtocolJson> {
  const ctx = { dir: app.dir };
  const remotename = "origin";
  const url = await remoteUrl(ctx, remotename);
  const branch =
    (await upstreamBranch(ctx, remotename)) ?? (await localRemoteHead(ctx, remotename)) ?? (await currentBranch(ctx));
  const compose = composeFiles(app);
  return {
    name:
      basename(app.dir)
        .replace(/[^A-Za-z0-9._-]+/g, "-")
        .replace(/^[^A-Za-z0-9]+/, "") || "app",
    git: {
      ...(url ? { remote: redactUrl(url) } : {}),
      ...(branch ? { branch } : {}),
      remotename,
      interval: DEFAULT_INTERVAL,
    },
    docker: compose.length > 0 ? { compose: compose.length === 1 ? compose[0] : compose } : {},
    configuration: {},
  };
}

export interface ProtocolJsonProposal {
  path: string;
  /** The file's text, as it will be written. */
  text: string;
  config: ProtocolJson;
}

/** What `init` would write; an existing protocol.json is refused unless `force`. Writes nothing. */
export async function planProtocolJson(app: App, force: boolean): Promise<ProtocolJsonProposal> {
  const path = join(app.dir, PROTOCOL_JSON);
  if (existsSync(path) && !force)
    throw new PreconditionError(`${path} already exists`, "edit it, or pass --force to replace it (a backup is kept)");
  const config = await proposeProtocolJson(app);
  const text = `${JSON.stringify(config, null, 2)}\n`;
  parseProtocolJson(text, path);
  return { path, text, config };
}

/** Write the proposal; an existing file is kept first in the app's state dir (a stray file in the app would show as untracked). */
export function writeProtocolJson(app: App, proposal: ProtocolJsonProposal): { backup: string | null } {
  const backup = backupFile(proposal.path, app.paths.root);
  writeFileAtomic(proposal.path, proposal.text);
  return { backup };
}
