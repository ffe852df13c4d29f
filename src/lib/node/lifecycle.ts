import type { App } from "../app/app.ts";
import { captureLoopEnv, changedLoopVars, type LoopEnv } from "../app/loop-env.ts";
import { gitSlaveDaemon, readSlave } from "../app/loops.ts";
import { readRegistration, writeRegistration } from "../app/state.ts";
import { type ConfigStart, prepareConfig } from "../config-repo/node.ts";
import { errorMessage, MissingProgramError, UsageError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { assertNoControlChars } from "../core/validate.ts";
import { composeDown, composeFiles } from "../docker/docker.ts";
import { assertWorkTree } from "../git/git.ts";
import { addRebootEntry, type CrontabChange, removeRebootEntry } from "../host/crontab.ts";
import type { UnitChange } from "../host/systemd.ts";
import { readConfigSlave } from "./config-slave.ts";
import {
  type StartedSlave,
  type StoppedSlave,
  startSlaveInBackground,
  stopLegacyConfigSlave,
  stopSlave,
  wakeDaemon,
} from "./daemon.ts";
import { deployWorkingCopy } from "./execute.ts";
import { setFollow } from "./follow.ts";
import type { DirtyPolicy, DivergedPolicy, SyncOutcome } from "./outcome.ts";
import { runPass } from "./pass.ts";
import { secretsInRemoteUrls } from "./remote-secrets.ts";
import {
  recordedSupervisor,
  type Supervisor,
  startSupervised,
  stopSupervised,
  writeSupervisedUnits,
} from "./supervisor.ts";

export interface StartOptions {
  intervalSeconds?: number;
  onDirty: DirtyPolicy;
  onDiverged: DivergedPolicy;
  /** Install the @reboot crontab line (start does, restart does not touch the crontab). */
  cron: boolean;
  /** `start <env>`: this machine's environment, recorded; otherwise the one recorded before. */
  env?: string;
  /** --supervisor; otherwise the one recorded with the node, else cron. */
  supervisor?: Supervisor;
  /** "start": a person's (a crash-loop mark is lifted); "restart": after a reboot. */
  start: "start" | "restart";
  /** --no-start (systemd only): write and enable the unit for an image; no pass, no deploy, no loop now. */
  noStart?: boolean;
}

export interface StartReport {
  dir: string;
  /** Null with --no-start: nothing ran. */
  sync: SyncOutcome | null;
  /** Null on a development machine: git is left alone there. */
  slave: StartedSlave | null;
  config: ConfigStart;
  configSlave: StartedSlave | null;
  cron: CrontabChange | null;
  supervisor: Supervisor;
  /** systemd: the unit files written or kept. */
  units: UnitChange[] | null;
}

/** The flags that make the background loop behave as this start was asked to. */
export function slaveFlags(options: Pick<StartOptions, "intervalSeconds" | "onDirty" | "onDiverged">): string[] {
  return [
    ...(options.intervalSeconds ? ["--interval", String(options.intervalSeconds)] : []),
    ...(options.onDirty !== "refuse" ? [`--on-dirty=${options.onDirty}`] : []),
    ...(options.onDiverged !== "refuse" ? [`--on-diverged=${options.onDiverged}`] : []),
  ];
}

async function tryCrontab(what: string, edit: () => Promise<CrontabChange>): Promise<CrontabChange | null> {
  try {
    return await edit();
  } catch (error) {
    if (!(error instanceof MissingProgramError)) throw error;
    log.warn(`${what}: ${errorMessage(error)} (${error.hint})`);
    return null;
  }
}

/**
 * Loops that run with another environment than this start's (DOCKER_HOST, proxies…) are stopped,
 * so that the ones started next have it; returns the variables that changed.
 */
async function restartForNewEnv(app: App, loopEnv: LoopEnv): Promise<string[]> {
  const recorded = readRegistration(app.paths.registration)?.loopEnv;
  if (!recorded) return [];
  const changed = changedLoopVars(recorded, loopEnv);
  if (changed.length === 0) return [];
  const stopped = [await stopSlave(app), await stopLegacyConfigSlave(app)].filter((s) => s.pid !== null);
  return stopped.length > 0 ? changed : [];
}

/** One sync now, then slave mode in the background, then the @reboot line. Safe to run twice. */
export async function startNode(app: App, options: StartOptions): Promise<StartReport> {
  // Refused before anything runs: the dir goes into the @reboot line, logs and the loop's argv.
  assertNoControlChars(app.dir, "the app dir", "rename the directory: protocol will not put it in a crontab line");
  await assertWorkTree(app.dir);
  for (const secret of await secretsInRemoteUrls(app)) log.warn(`${secret.detail}; ${secret.fix}`);
  const supervisor = options.supervisor ?? recordedSupervisor(app);
  if (options.noStart && supervisor !== "systemd")
    throw new UsageError(
      "--no-start writes systemd units for an image; with cron there is nothing to write",
      "add --supervisor systemd",
    );
  const config = await prepareConfig(app, options.env, options.start);
  const sync = options.noStart
    ? null
    : config.dev
      ? await deployWorkingCopy(app)
      : await runPass(app, {
          command: "start",
          start: options.start,
          onDirty: options.onDirty,
          onDiverged: options.onDiverged,
          lockWaitMs: 60_000,
        });
  const loopEnv = captureLoopEnv();
  const loops = config.dev
    ? { slave: null, configSlave: null, units: null, restarted: [] as string[] }
    : options.noStart
      ? {
          slave: null,
          configSlave: null,
          restarted: [] as string[],
          units: writeNoStartUnits(app, options, loopEnv, config.followable),
        }
      : await startLoops(app, options, supervisor, loopEnv, config.followable);
  const { slave, configSlave, units, restarted } = loops;
  writeRegistration(app.paths.registration, {
    dir: app.dir,
    name: app.name,
    enabled: true,
    interval: options.intervalSeconds,
    onDirty: options.onDirty,
    onDiverged: options.onDiverged,
    loopEnv,
    supervisor,
    updatedAt: new Date().toISOString(),
  });
  if (restarted.includes("restart")) log.info("slave mode restarted on the binary in place");
  else if (restarted.length > 0) log.info(`slave mode restarted: its environment changed (${restarted.join(", ")})`);
  // systemd brings the loops back after a reboot: the @reboot line would start second ones.
  const cron =
    supervisor === "systemd"
      ? await tryCrontab("could not remove the @reboot line", () => removeRebootEntry(app.dir))
      : options.cron
        ? await tryCrontab("the node will not come back after a reboot", () => addRebootEntry(app.dir))
        : null;
  return { dir: app.dir, sync, slave, config, configSlave, cron, supervisor, units };
}

/** --no-start: the unit written for an image, the loop to follow the app and (when it can) the config repo. */
function writeNoStartUnits(app: App, options: StartOptions, loopEnv: LoopEnv, followConfig: boolean): UnitChange[] {
  setFollow(app, { app: true, config: followConfig });
  return writeSupervisedUnits(app, { flags: slaveFlags(options), loopEnv });
}

/**
 * The app's one loop, following its remote and (when it has one to follow) its config repo's.
 * `restart` restarts a running loop, so it runs the binary now in place (never a deleted one); a
 * loop of an older protocol that followed the config repo on its own is stopped.
 */
async function startLoops(
  app: App,
  options: StartOptions,
  supervisor: Supervisor,
  loopEnv: LoopEnv,
  followConfig: boolean,
): Promise<{ slave: StartedSlave; configSlave: StartedSlave | null; units: UnitChange[] | null; restarted: string[] }> {
  setFollow(app, { app: true, config: followConfig });
  await stopLegacyConfigSlave(app);
  if (supervisor === "systemd") {
    const flags = slaveFlags(options);
    const started = await startSupervised(app, { flags, loopEnv, restart: options.start === "restart" });
    return { ...started, configSlave: followConfig ? started.slave : null, restarted: [] };
  }
  // Moving from systemd back to cron: the units go first (they would restart the loops).
  if (recordedSupervisor(app) === "systemd") await stopSupervised(app);
  const restarted = await restartForNewEnv(app, loopEnv);
  if (options.start === "restart" && readSlave(app).running) {
    await stopSlave(app);
    restarted.push("restart");
  }
  const slave = await startSlaveInBackground(app, slaveFlags(options));
  // A loop that was running already reads what it follows at its next poll: now.
  if (slave.alreadyRunning) wakeDaemon(gitSlaveDaemon(app));
  return { slave, configSlave: followConfig ? slave : null, units: null, restarted };
}

export interface StopReport {
  dir: string;
  slave: StoppedSlave;
  configSlave: StoppedSlave;
  cron: CrontabChange | null;
  down: boolean;
  /** systemd unit files removed. */
  units: string[];
}

export async function stopNode(app: App, options: { down: boolean }): Promise<StopReport> {
  // systemd's units first: a loop it supervises would be started again after stopSlave's SIGTERM.
  const units = recordedSupervisor(app) === "systemd" ? await stopSupervised(app) : [];
  const followedConfig = readConfigSlave(app).running;
  const slave = await stopSlave(app);
  const legacy = await stopLegacyConfigSlave(app);
  // One loop per app: the config part stopped with it (or an older protocol's config loop did).
  const configSlave = legacy.pid || !followedConfig ? legacy : slave;
  const cron = await tryCrontab("could not remove the @reboot line", () => removeRebootEntry(app.dir));
  const registration = readRegistration(app.paths.registration);
  if (registration)
    writeRegistration(app.paths.registration, { ...registration, enabled: false, updatedAt: new Date().toISOString() });
  const down = options.down && composeFiles(app).length > 0;
  if (down) await composeDown(app);
  return { dir: app.dir, slave, configSlave, cron, down, units };
}
