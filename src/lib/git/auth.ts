import { expandHome } from "../core/paths.ts";
import { shellQuote } from "../core/shell.ts";
import type { App } from "../node/app.ts";
import type { GitContext } from "./git.ts";

/**
 * Credentials for network git, as environment only: argv is visible in ps. A deploy key goes into
 * GIT_SSH_COMMAND; a username/password (env PROTOCOL_GIT_USERNAME/PASSWORD first, protocol.json
 * second) becomes an http.extraHeader through GIT_CONFIG_COUNT, as giget does.
 */
export function gitEnv(app: App, env: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  const key = app.config.git?.key;
  if (key)
    out.GIT_SSH_COMMAND = `ssh -i ${shellQuote(expandHome(key, app.dir))} -o IdentitiesOnly=yes -o BatchMode=yes`;
  // `||`, not `??`: an empty variable (as cloud-init templates leave them) means unset.
  const username = env.PROTOCOL_GIT_USERNAME || app.config.git?.username;
  const password = env.PROTOCOL_GIT_PASSWORD || app.config.git?.password;
  if (username && password) {
    const token = Buffer.from(`${username}:${password}`).toString("base64");
    out.GIT_CONFIG_COUNT = "1";
    out.GIT_CONFIG_KEY_0 = "http.extraHeader";
    out.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${token}`;
  }
  return out;
}

export function gitContext(app: App): GitContext {
  return { dir: app.dir, env: gitEnv(app) };
}
