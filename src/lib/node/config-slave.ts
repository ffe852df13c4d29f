import type { App } from "../app/app.ts";
import {
  type DaemonSpec,
  readDaemon,
  type SlaveInfo,
  type StartedSlave,
  type StoppedSlave,
  startDaemon,
  stopDaemon,
} from "./daemon.ts";

export function configSlaveDaemon(app: App): DaemonSpec {
  return { command: "config:slave", dir: app.dir, lockPath: app.paths.configSlaveLock, logPath: app.paths.configLog };
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
