import { type Env, nodeEnv } from "../core/node-env.ts";
import { redactUrl } from "../core/validate.ts";

/**
 * The variables that steer git and docker for a node: which engine (DOCKER_HOST, a context, TLS),
 * whose registry credentials (DOCKER_CONFIG), which ssh agent and command, which proxy. `start`
 * records them with the node, and every loop and `restart` (cron's @reboot line, whose environment
 * is nearly empty) runs with what was recorded, so after a reboot the loop talks to the same engine.
 */
export const LOOP_ENV_VARS = [
  "DOCKER_HOST",
  "DOCKER_CONTEXT",
  "DOCKER_CONFIG",
  "DOCKER_CERT_PATH",
  "DOCKER_TLS_VERIFY",
  "SSH_AUTH_SOCK",
  "GIT_SSH_COMMAND",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  // The node's id for fleet rollouts: the same wave and record after a reboot.
  "PROTOCOL_NODE_ID",
] as const;

export type LoopEnv = Record<string, string>;

/** The loop variables set (non-empty) in `env`. */
export function captureLoopEnv(env: Env = nodeEnv()): LoopEnv {
  const captured: LoopEnv = {};
  for (const name of LOOP_ENV_VARS) {
    const value = env[name];
    if (value) captured[name] = value;
  }
  return captured;
}

/** The names whose values differ between two recorded environments (set, unset or changed). */
export function changedLoopVars(before: LoopEnv, after: LoopEnv): string[] {
  return LOOP_ENV_VARS.filter((name) => (before[name] ?? "") !== (after[name] ?? ""));
}

/** The overlay that gives a node its recorded environment: what it has set, the other loop variables unset. */
export function loopEnvOverlay(recorded: LoopEnv): Env {
  return Object.fromEntries(LOOP_ENV_VARS.map((name) => [name, recorded[name] || undefined]));
}

/**
 * The environment the app's loop runs with, for status and doctor to see what it sees (its node id,
 * its engine) rather than the shell's: what start recorded over this process's environment, or this
 * process's own when nothing was recorded.
 */
export function loopEnvOf(recorded: LoopEnv | undefined): Env {
  return recorded ? { ...nodeEnv(), ...loopEnvOverlay(recorded) } : nodeEnv();
}

/** For status: the values, with any credentials in a proxy URL removed. */
export function showLoopEnv(recorded: LoopEnv): LoopEnv {
  return Object.fromEntries(Object.entries(recorded).map(([name, value]) => [name, redactUrl(value)]));
}
