/** Credentials for network git, and how they reach exactly one remote. */

/** HTTP Basic credentials for one remote. */
export interface HttpCredentials {
  username: string;
  password: string;
}

/** How a repo authenticates to its remote: never argv. */
export interface GitAuth {
  /** Extra env for every git of this repo (GIT_SSH_COMMAND). */
  env?: Record<string, string>;
  /** Sent only to this repo's remote URL, by network git (see httpAuthEnv). */
  http?: HttpCredentials;
}

/**
 * The env that gives git an Authorization header for one URL only: `http.<url>.extraHeader`
 * through GIT_CONFIG_COUNT (as giget does, but scoped), so a header meant for the app remote is
 * never sent to the config remote, a submodule's host or a redirect to elsewhere. Nothing for a
 * non-HTTP URL (ssh, file, git://): the header would mean nothing there.
 */
export function httpAuthEnv(url: string, http: HttpCredentials | undefined): Record<string, string> {
  if (!http || !/^https?:\/\//i.test(url)) return {};
  const token = Buffer.from(`${http.username}:${http.password}`).toString("base64");
  return {
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: `http.${url}.extraHeader`,
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${token}`,
  };
}
