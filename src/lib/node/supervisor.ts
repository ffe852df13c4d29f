/**
 * Who keeps an app's loops running: cron (the default: start runs them in the background and an
 * @reboot line runs `protocol restart` after a reboot) or systemd (a unit per loop, Restart=always).
 * The choice is recorded with the node, so restart, stop, git:slave:stop and self:update do the
 * same thing the same way.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { App } from "../app/app.ts";
import type { LoopEnv } from "../app/loop-env.ts";
import { type DaemonSpec, gitSlaveDaemon, readDaemon } from "../app/loops.ts";
import { readRegistration } from "../app/state.ts";
import {
  errorMessage,
  MissingProgramError,
  PreconditionError,
  ProtocolError,
  StepFailedError,
} from "../core/errors.ts";
import { stateHome } from "../core/paths.ts";
import { parseCrontab } from "../host/cron-block.ts";
import { readCrontab } from "../host/crontab.ts";
import {
  installUnits,
  installUnitsOffline,
  removeUnitFiles,
  removeUnits,
  startUnits,
  systemctlStop,
  systemdAvailable,
  systemScope,
  type UnitChange,
  type UnitSpec,
  unitDir,
  unitName,
  unitStates,
} from "../host/systemd.ts";
import { selfArgv } from "../release/self.ts";
import {
  LOOP_RUNTIME_ENV,
  type StartedSlave,
  startSlaveInBackground,
  stopLegacyConfigSlave,
  stopSlave,
} from "./daemon.ts";

export const SUPERVISORS = ["cron", "systemd"] as const;
export type Supervisor = (typeof SUPERVISORS)[number];

export function recordedSupervisor(app: App): Supervisor {
  return readRegistration(app.paths.registration)?.supervisor ?? "cron";
}

/** The app's unit names: its one loop's, and the config loop unit an older protocol wrote (removed when found). */
export function appUnits(app: App): string[] {
  return [unitName(app.dir, "git"), unitName(app.dir, "config")];
}

function spec(app: App, daemon: DaemonSpec, flags: string[], loopEnv: LoopEnv, what: string): UnitSpec {
  const environment: Record<string, string> = { ...loopEnv, PROTOCOL_HOME: stateHome(), ...LOOP_RUNTIME_ENV };
  for (const name of ["HOME", "PATH"] as const) if (process.env[name]) environment[name] = process.env[name]!;
  return {
    name: unitName(app.dir, "git"),
    description: `protocol ${what} for ${app.name} (${app.dir})`,
    execStart: [...selfArgv(), daemon.command, "--foreground", "--dir", app.dir, ...flags],
    workingDirectory: app.dir,
    environment,
    logPath: daemon.logPath,
    system: systemScope(),
  };
}

async function waitForLoop(daemon: DaemonSpec, unit: string): Promise<StartedSlave> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const info = readDaemon(daemon);
    if (info.running && info.pid) return { pid: info.pid, alreadyRunning: false };
    await Bun.sleep(50);
  }
  throw new StepFailedError(
    `${unit} did not start its loop within 15s`,
    `see systemctl status ${unit} and ${daemon.logPath}`,
  );
}

export interface SupervisedStart {
  slave: StartedSlave;
  units: UnitChange[];
}

/**
 * Hand the loops to systemd: write (or update) the units, enable and start them, wait until each
 * loop holds its lock. Loops that cron's start left in the background are stopped first (they hold
 * the locks) and started again if systemd fails; a config unit no longer wanted is removed.
 */
export async function startSupervised(
  app: App,
  options: { flags: string[]; loopEnv: LoopEnv; restart: boolean },
): Promise<SupervisedStart> {
  if (!systemdAvailable())
    throw new PreconditionError(
      "systemd does not run this machine (no /run/systemd/system: a container or a minimal image)",
      "use the default supervisor: protocol start --supervisor cron",
    );
  const [gitUnit, configUnit] = appUnits(app) as [string, string];
  // Loops cron's start ran hold the locks: stopped first (the registration says who runs them).
  const fromCron = recordedSupervisor(app) !== "systemd";
  const stopped = fromCron ? [await stopSlave(app), await stopLegacyConfigSlave(app)] : [];
  const specs = [spec(app, gitSlaveDaemon(app), options.flags, options.loopEnv, "slave mode")];
  try {
    // One loop per app: an older protocol's config unit goes.
    if (existsSync(join(unitDir(), configUnit))) await removeUnits([configUnit]);
    const units = await installUnits(specs);
    // restart: the loop runs the binary now in place (installUnits restarts only a changed unit).
    if (options.restart && !units[0]?.written) await startUnits([gitUnit], "restart");
    const slave = await waitForLoop(gitSlaveDaemon(app), gitUnit);
    return { slave, units };
  } catch (error) {
    // The node is never left without its loop: the one stopped for systemd runs again, as before,
    // and no unit is left behind to start a second one at the next boot.
    if (fromCron) for (const unit of specs) rmSync(join(unitDir(), unit.name), { force: true });
    if (stopped.some((s) => s.pid)) await startSlaveInBackground(app, options.flags);
    if (stopped.some((s) => s.pid) && error instanceof ProtocolError)
      error.message = `${error.message}; slave mode keeps running in the background, as before`;
    throw error;
  }
}

/**
 * start --no-start: write and enable the unit for an image (no systemctl, no running systemd
 * needed); nothing starts now, systemd starts the loop at the next boot.
 */
export function writeSupervisedUnits(app: App, options: { flags: string[]; loopEnv: LoopEnv }): UnitChange[] {
  const [, configUnit] = appUnits(app) as [string, string];
  // One loop per app: an older protocol's config unit goes.
  removeUnitFiles([configUnit]);
  return installUnitsOffline([spec(app, gitSlaveDaemon(app), options.flags, options.loopEnv, "slave mode")]);
}

/** Stop the loops and take them from systemd (units disabled and removed); the files removed. */
export async function stopSupervised(app: App): Promise<string[]> {
  return removeUnits(appUnits(app));
}

/** Restart the units on the binary now in place (self:update). */
export async function restartSupervised(app: App): Promise<void> {
  const present = (await unitStates(appUnits(app))).map((unit) => unit.name);
  await startUnits(present, "restart");
}

/** git:slave:stop on a systemd node: systemd would start a signalled loop again, so it is asked to stop it. */
export async function stopGitUnit(app: App): Promise<string | null> {
  const [gitUnit] = appUnits(app) as [string];
  if (recordedSupervisor(app) !== "systemd" || !existsSync(join(unitDir(), gitUnit))) return null;
  await systemctlStop(gitUnit);
  return gitUnit;
}

/** What the crontab holds for the app: what brings a cron node back after a reboot. */
export interface RebootEntry {
  state: "present" | "missing" | "no-crontab" | "unreadable";
  /** Why it could not be read (no-crontab, unreadable). */
  error?: string;
}

export interface SupervisorStatus {
  kind: Supervisor;
  /** systemd: each unit of the app and its state. */
  units: { name: string; path: string; active: string }[];
  /** cron: the app's @reboot line as the crontab has it now (not as start left it). */
  reboot?: RebootEntry;
}

async function readRebootEntry(app: App): Promise<RebootEntry> {
  try {
    const present = parseCrontab(await readCrontab()).entries.some((entry) => entry.dir === app.dir);
    return { state: present ? "present" : "missing" };
  } catch (error) {
    return { state: error instanceof MissingProgramError ? "no-crontab" : "unreadable", error: errorMessage(error) };
  }
}

export async function readSupervisor(app: App): Promise<SupervisorStatus> {
  const kind = recordedSupervisor(app);
  if (kind === "cron") return { kind, units: [], reboot: await readRebootEntry(app) };
  return { kind, units: await unitStates(appUnits(app)) };
}
