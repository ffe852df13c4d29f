import { type App, remoteName } from "../app/app.ts";
import { CONFIG_REMOTE, configContext, hasConfigRepo } from "../config-repo/repo.ts";
import { shellQuote } from "../core/shell.ts";
import { credentialInUrl, redactUrl } from "../core/validate.ts";
import { gitContext } from "../git/auth.ts";
import { type GitContext, remoteUrl } from "../git/git.ts";

/** A remote URL that carries a password or token, and how to move it to the environment. */
export interface SecretInUrl {
  detail: string;
  fix: string;
}

async function inspect(ctx: GitContext, remote: string, envPrefix: string): Promise<SecretInUrl | null> {
  const url = await remoteUrl(ctx, remote);
  if (!url || !credentialInUrl(url)) return null;
  return {
    detail: `the URL of remote ${remote} in ${ctx.dir} carries a password or token: ps shows it (git's remote-http child) and .git/config keeps it`,
    fix: `git -C ${shellQuote(ctx.dir)} remote set-url ${remote} ${shellQuote(redactUrl(url))}, then set ${envPrefix}_USERNAME and ${envPrefix}_PASSWORD in the environment`,
  };
}

/** The app remote's URL and the config repo's, checked for credentials (doctor and start warn). */
export async function secretsInRemoteUrls(app: App): Promise<SecretInUrl[]> {
  const found = await Promise.all([
    inspect(gitContext(app), remoteName(app), "PROTOCOL_GIT"),
    hasConfigRepo(app) ? inspect(configContext(app), CONFIG_REMOTE, "PROTOCOL_CONFIG_GIT") : null,
  ]);
  return found.filter((secret) => secret !== null);
}
