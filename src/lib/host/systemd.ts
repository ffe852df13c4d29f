/**
 * systemd as the loops' supervisor: one unit per loop (the app's git:slave, and its config:slave
 * when the config repo is followed), `Restart=always`, run in the foreground with the environment
 * start recorded. Root gets system units in /etc/systemd/system; anyone else user units in
 * ~/.config/systemd/user (`loginctl enable-linger` lets them start at boot). PROTOCOL_SYSTEMD_DIR
 * puts the units elsewhere (an image build, tests).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { MissingProgramError, PreconditionError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/fs.ts";
import { appKey } from "../core/paths.ts";
import { run, type SpawnResult, stepFailure } from "../core/spawn.ts";
import { hasControlChars, safeLine } from "../core/validate.ts";

type Env = Record<string, string | undefined>;

export interface UnitSpec {
  /** protocol-<app key>[-config].service */
  name: string;
  description: string;
  execStart: string[];
  workingDirectory: string;
  environment: Record<string, string>;
  /** The loop's log (protocol logs reads it): stdout and stderr are appended there, not to the journal only. */
  logPath: string;
  /** System units start after the network and docker; user units have neither to wait for. */
  system: boolean;
}

export const SYSTEMD_STOP_TIMEOUT_S = 70;
const UNIT_MODE = 0o600;

export function unitName(dir: string, loop: "git" | "config"): string {
  return `protocol-${appKey(dir).toLowerCase()}${loop === "config" ? "-config" : ""}.service`;
}

/** Whether units go to the system manager (root) or the user's. */
export function systemScope(env: Env = process.env): boolean {
  return env.PROTOCOL_SYSTEMD_USER !== "1" && process.getuid?.() === 0;
}

export function unitDir(env: Env = process.env): string {
  if (env.PROTOCOL_SYSTEMD_DIR) return env.PROTOCOL_SYSTEMD_DIR;
  return systemScope(env) ? "/etc/systemd/system" : join(env.HOME || homedir(), ".config", "systemd", "user");
}

/** systemd runs this machine (sd_booted(3)). */
export function systemdRunning(): boolean {
  return existsSync("/run/systemd/system");
}

/** systemd manages this machine, or PROTOCOL_SYSTEMD_DIR says the units go elsewhere. */
export function systemdAvailable(env: Env = process.env): boolean {
  return Boolean(env.PROTOCOL_SYSTEMD_DIR) || systemdRunning();
}

/** For a machine systemd does not run: how to write the units anyway (an image), or do without them. */
const NOT_RUN_BY_SYSTEMD_HINT =
  "to write the units for an image without a running systemd: protocol start --supervisor systemd --no-start; otherwise use the default supervisor, cron (start --supervisor cron)";

/** One ExecStart word: quoted, with systemd's specifiers (%) and variables ($) escaped. Pure. */
export function quoteExecWord(word: string): string {
  if (hasControlChars(word)) throw new PreconditionError(`${JSON.stringify(word)} cannot go into a systemd unit`);
  return `"${word.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%").replace(/\$/g, "$$$$")}"`;
}

/** One Environment= assignment, quoted for systemd (no $ expansion there; % is a specifier). Pure. */
export function quoteEnvironment(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || hasControlChars(value))
    throw new PreconditionError(`the variable ${name} cannot go into a systemd unit (a control character in it)`);
  return `"${`${name}=${value}`.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%")}"`;
}

/**
 * A path on a unit line (WorkingDirectory=, append:), which systemd takes unquoted to the end of
 * the line: absolute, no control characters, its % escaped. systemd joins a line ending in a
 * backslash with the next one and strips trailing blanks, so a path ending in either gets a "/"
 * (systemd drops it again when it simplifies the path). Pure.
 */
export function escapePath(path: string): string {
  if (!path.startsWith("/") || hasControlChars(path))
    throw new PreconditionError(
      `${JSON.stringify(path)} cannot go into a systemd unit (not absolute, or a control character in it)`,
    );
  const escaped = path.replace(/%/g, "%%");
  return /[\\\s]$/.test(escaped) ? `${escaped}/` : escaped;
}

/** Free text on a unit line (Description=): one line, % escaped, never ending in a continuation backslash. Pure. */
export function escapeText(text: string): string {
  const line = safeLine(text).replace(/%/g, "%%");
  // An odd run of backslashes at the end continues the line; one more makes it even.
  return /(^|[^\\])(\\\\)*\\$/.test(line) ? `${line}\\` : line;
}

/** The unit file. Pure. */
export function renderUnit(spec: UnitSpec): string {
  if (hasControlChars(spec.logPath) || /\s/.test(spec.logPath))
    throw new PreconditionError(
      `the log path ${JSON.stringify(spec.logPath)} cannot go into a systemd unit (whitespace)`,
    );
  const env = Object.entries(spec.environment)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `Environment=${quoteEnvironment(name, value)}`);
  return [
    "# Written by protocol (start --supervisor systemd, service:install); protocol service:remove removes it.",
    "[Unit]",
    `Description=${escapeText(spec.description)}`,
    ...(spec.system ? ["Wants=network-online.target", "After=network-online.target docker.service"] : []),
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${spec.execStart.map(quoteExecWord).join(" ")}`,
    // A path, unquoted: systemd takes the rest of the line as it is (escapePath).
    `WorkingDirectory=${escapePath(spec.workingDirectory)}`,
    ...env,
    `StandardOutput=append:${escapePath(spec.logPath)}`,
    `StandardError=append:${escapePath(spec.logPath)}`,
    "Restart=always",
    "RestartSec=5",
    // SIGTERM lets the loop finish its step (git:slave:stop waits 60 s for the same).
    "KillMode=mixed",
    `TimeoutStopSec=${SYSTEMD_STOP_TIMEOUT_S}`,
    "",
    "[Install]",
    `WantedBy=${spec.system ? "multi-user.target" : "default.target"}`,
    "",
  ].join("\n");
}

async function runSystemctl(args: string[], env: Env): Promise<SpawnResult> {
  try {
    return await run(["systemctl", ...(systemScope(env) ? [] : ["--user"]), ...args], { idleTimeoutMs: 90_000 });
  } catch (error) {
    if (error instanceof MissingProgramError)
      throw new PreconditionError(
        "systemctl is not installed: this machine is not run by systemd",
        NOT_RUN_BY_SYSTEMD_HINT,
      );
    throw error;
  }
}

async function systemctl(args: string[], env: Env = process.env): Promise<string> {
  const result = await runSystemctl(args, env);
  if (!result.ok)
    // Where systemd does not run (an image build, a container), the journal has nothing to say.
    throw stepFailure(
      `systemctl ${args.join(" ")}`,
      result,
      systemdRunning()
        ? "see journalctl -xe and systemctl status for the unit"
        : `systemd does not run this machine (no /run/systemd/system): ${NOT_RUN_BY_SYSTEMD_HINT}`,
    );
  return result.stdout;
}

export interface UnitChange {
  name: string;
  path: string;
  /** The file was written (new, or its content changed). */
  written: boolean;
}

/**
 * Write the unit files whose content changed. 0600, also for a unit written before with 0644:
 * its Environment= lines may hold a proxy URL with credentials, and systemd reads units as their owner.
 */
function writeUnitFiles(specs: UnitSpec[], env: Env): UnitChange[] {
  const dir = unitDir(env);
  mkdirSync(dir, { recursive: true });
  return specs.map((spec) => {
    const path = join(dir, spec.name);
    const text = renderUnit(spec);
    const written = !existsSync(path) || readFileSync(path, "utf8") !== text;
    if (written) writeFileAtomic(path, text, UNIT_MODE);
    else if ((statSync(path).mode & 0o777) !== UNIT_MODE) chmodSync(path, UNIT_MODE);
    return { name: spec.name, path, written };
  });
}

/** Where `systemctl enable` links a unit of this scope (its [Install] WantedBy). */
function wantsDir(dir: string, system: boolean): string {
  return join(dir, `${system ? "multi-user" : "default"}.target.wants`);
}

/**
 * Write the units and enable them as `systemctl enable` does on a stopped system (a link in the
 * target's .wants dir, relative, so it holds inside the image too), without systemctl: nothing
 * starts now, systemd starts them at the next boot. For an image build.
 */
export function installUnitsOffline(specs: UnitSpec[], env: Env = process.env): UnitChange[] {
  const changes = writeUnitFiles(specs, env);
  for (const spec of specs) {
    const wants = wantsDir(unitDir(env), spec.system);
    mkdirSync(wants, { recursive: true });
    rmSync(join(wants, spec.name), { force: true });
    symlinkSync(join("..", spec.name), join(wants, spec.name));
  }
  return changes;
}

/** Remove unit files and their enabling links, without systemctl (the offline counterpart of removeUnits). */
export function removeUnitFiles(names: string[], env: Env = process.env): void {
  const dir = unitDir(env);
  for (const name of names)
    for (const path of [join(dir, name), join(wantsDir(dir, true), name), join(wantsDir(dir, false), name)])
      rmSync(path, { force: true });
}

/** Write the units (only when their content changed), reload systemd, enable them and (re)start changed ones. */
export async function installUnits(specs: UnitSpec[], env: Env = process.env): Promise<UnitChange[]> {
  const changes = writeUnitFiles(specs, env);
  if (changes.some((c) => c.written)) await systemctl(["daemon-reload"], env);
  await systemctl(["enable", ...changes.map((c) => c.name)], env);
  const changed = changes.filter((c) => c.written).map((c) => c.name);
  if (changed.length > 0) await systemctl(["restart", ...changed], env);
  const unchanged = changes.filter((c) => !c.written).map((c) => c.name);
  if (unchanged.length > 0) await systemctl(["start", ...unchanged], env);
  return changes;
}

/** Start (or restart) installed units: restart after a reboot, self:update. */
export async function startUnits(names: string[], verb: "start" | "restart", env: Env = process.env): Promise<void> {
  if (names.length > 0) await systemctl([verb, ...names], env);
}

/** Stop one unit (it stays enabled: it comes back at the next boot, or with protocol start). */
export async function systemctlStop(name: string, env: Env = process.env): Promise<void> {
  await systemctl(["stop", name], env);
}

/** Disable and stop the units, remove their files; returns the files removed (safe to run twice). */
export async function removeUnits(names: string[], env: Env = process.env): Promise<string[]> {
  const dir = unitDir(env);
  const present = names.filter((name) => existsSync(join(dir, name)));
  if (present.length === 0) return [];
  await systemctl(["disable", "--now", ...present], env);
  removeUnitFiles(present, env);
  await systemctl(["daemon-reload"], env);
  return present.map((name) => join(dir, name));
}

/** The units of an app that exist, and what systemd says of each (no systemd: "unknown"). */
export async function unitStates(
  names: string[],
  env: Env = process.env,
): Promise<{ name: string; path: string; active: string }[]> {
  const dir = unitDir(env);
  const present = names.filter((name) => existsSync(join(dir, name)));
  return Promise.all(
    present.map(async (name) => {
      // is-active prints the state and exits non-zero for any but "active".
      const state = await runSystemctl(["is-active", name], env).then(
        (result) => result.stdout.trim() || "unknown",
        () => "unknown",
      );
      return { name, path: join(dir, name), active: state };
    }),
  );
}
