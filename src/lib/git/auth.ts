import type { App } from "../app/app.ts";
import { expandHome } from "../core/paths.ts";
import { shellQuote } from "../core/shell.ts";
import type { GitContext } from "./git.ts";
import type { GitAuth } from "./http-auth.ts";

type Env = Record<string, string | undefined>;

/**
 * The app remote's credentials, as environment only (argv is visible in ps). A deploy key goes into
 * GIT_SSH_COMMAND; a username/password (env PROTOCOL_GIT_USERNAME/PASSWORD first, protocol.json
 * second) is kept aside: network git sends it as `http.<that remote's URL>.extraHeader`, so it
 * reaches the app remote and nothing else.
 */
export function gitAuth(app: App, env: Env = process.env): GitAuth {
  return {
    env: sshEnv(app),
    // `||`, not `??`: an empty variable (as cloud-init templates leave them) means unset.
    http: basicCredentials(
      env.PROTOCOL_GIT_USERNAME || app.config.git?.username,
      env.PROTOCOL_GIT_PASSWORD || app.config.git?.password,
    ),
  };
}

/**
 * The config repo's credentials: its own username/password (PROTOCOL_CONFIG_GIT_USERNAME/PASSWORD),
 * never the app's. Nor the app's git.key: a deploy key belongs to one repo, and ssh offering it
 * first would get the config clone refused. Over ssh the config repo uses its own key through the
 * alias `key:generate <name> --repo <config url>` made (or the agent, or ~/.ssh's defaults).
 */
export function configGitAuth(env: Env = process.env): GitAuth {
  return {
    env: {},
    http: basicCredentials(env.PROTOCOL_CONFIG_GIT_USERNAME, env.PROTOCOL_CONFIG_GIT_PASSWORD),
  };
}

/**
 * The status remote's credentials (rollout.statusRemote): PROTOCOL_FLEET_GIT_USERNAME/PASSWORD,
 * never the app's or the config repo's: a node may push there, and only there.
 */
export function fleetGitAuth(env: Env = process.env): GitAuth {
  return {
    env: {},
    http: basicCredentials(env.PROTOCOL_FLEET_GIT_USERNAME, env.PROTOCOL_FLEET_GIT_PASSWORD),
  };
}

function sshEnv(app: App): Record<string, string> {
  const key = app.config.git?.key;
  if (!key) return {};
  return { GIT_SSH_COMMAND: `ssh -i ${shellQuote(expandHome(key, app.dir))} -o IdentitiesOnly=yes -o BatchMode=yes` };
}

function basicCredentials(username: string | undefined, password: string | undefined): GitAuth["http"] {
  return username && password ? { username, password } : undefined;
}

export function gitContext(app: App): GitContext {
  return { dir: app.dir, ...gitAuth(app) };
}
