import { type App, pollInterval } from "../node/app.ts";
import {
  type DaemonSpec,
  readDaemon,
  type SlaveInfo,
  type StartedSlave,
  type StoppedSlave,
  startDaemon,
  stopDaemon,
} from "../node/daemon.ts";
import { runPollLoop } from "../node/slave.ts";
import { readConfigState, syncConfig } from "./sync.ts";

export function configSlaveDaemon(app: App): DaemonSpec {
  return { command: "config:slave", lockPath: app.paths.configSlaveLock, logPath: app.paths.configLog };
}

export function readConfigSlave(app: App): SlaveInfo {
  return readDaemon(configSlaveDaemon(app));
}

export function configSlaveFlags(intervalSeconds?: number): string[] {
  return intervalSeconds ? ["--interval", String(intervalSeconds)] : [];
}

export async function startConfigSlave(app: App, intervalSeconds?: number): Promise<StartedSlave> {
  return startDaemon(app, configSlaveDaemon(app), configSlaveFlags(intervalSeconds));
}

export async function stopConfigSlave(app: App): Promise<StoppedSlave> {
  return stopDaemon(configSlaveDaemon(app));
}

/** Config slave mode in this process: the same loop as git:slave (jitter, backoff, signals), polling the config repo. */
export async function runConfigSlaveLoop(app: App, options: { intervalSeconds?: number }): Promise<void> {
  const interval = (current: App) => pollInterval(current, options.intervalSeconds);
  return runPollLoop(app, {
    command: "config:slave",
    label: "config slave mode",
    lockPath: app.paths.configSlaveLock,
    intervalSeconds: interval,
    failures: (current) => readConfigState(current.paths.configStatus).failures,
    async poll(current) {
      await syncConfig(current, { command: "config:slave", lockWaitMs: interval(current) * 1000 });
      return false;
    },
  });
}
