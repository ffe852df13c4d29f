import type { App } from "../app/app.ts";
import { runPollLoop } from "./slave.ts";
import { readConfigState, syncConfig } from "../config-repo/sync.ts";

/** Config slave mode in this process: the same loop as git:slave (jitter, backoff, signals), polling the config repo. */
export async function runConfigSlaveLoop(app: App, options: { intervalSeconds?: number }): Promise<void> {
  return runPollLoop(app, {
    command: "config:slave",
    label: "config slave mode",
    lockPath: app.paths.configSlaveLock,
    intervalSeconds: options.intervalSeconds,
    failures: (current) => readConfigState(current.paths.configStatus).failures,
    async poll(current, lockWaitMs) {
      await syncConfig(current, { command: "config:slave", lockWaitMs });
      return false;
    },
  });
}
