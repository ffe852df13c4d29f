/**
 * The config repo's part of the app's one loop. An app follows its remote and its config repo's in
 * one process (`git:slave --foreground`); config:slave and config:slave:stop turn the config part
 * on and off in it. An older protocol ran the config part as a loop of its own (`config:slave
 * --foreground`, config-slave.lock): such a loop is stopped wherever the one loop starts.
 */
import type { App } from "../app/app.ts";
import { legacyConfigDaemon, readDaemon, readSlave, type SlaveInfo } from "../app/loops.ts";
import { readNodeState } from "../app/state.ts";
import { type StartedSlave, type StoppedSlave, stopLegacyConfigSlave } from "./daemon.ts";
import { dropPart, followPart } from "./follow.ts";

/** The loop that follows the config repo: the app's loop when it does, else an older protocol's own config loop. */
export function readConfigSlave(app: App): SlaveInfo {
  const legacy = readDaemon(legacyConfigDaemon(app));
  if (legacy.running) return legacy;
  const loop = readSlave(app);
  return readNodeState(app.paths.status).follow.config ? loop : { ...loop, running: false, crashed: false };
}

/** config:slave: the app's loop follows the config repo too (started when it is not running). */
export async function startConfigSlave(app: App, flags: string[]): Promise<StartedSlave> {
  await stopLegacyConfigSlave(app);
  return followPart(app, "config", flags);
}

/** config:slave:stop: the app's loop stops following the config repo (and stops when it follows nothing else). */
export async function stopConfigSlave(app: App): Promise<StoppedSlave> {
  const legacy = await stopLegacyConfigSlave(app);
  const own = await dropPart(app, "config");
  return own.pid ? own : legacy;
}
