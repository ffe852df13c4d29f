/**
 * One config repo per app. A config repo has one checked-out branch, so two apps on one dir (the
 * same configuration.local, or two clones of one app side by side) switch each other's environment
 * and run two loops on one repo. The apps this machine runs (their registrations, written by start)
 * are asked before a second app takes the dir.
 */
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { type App, loadApp } from "../app/app.ts";
import { listRegistrations } from "../app/state.ts";
import { PreconditionError } from "../core/errors.ts";
import { configDir } from "./repo.ts";

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** The dir of another app registered on this machine (and not stopped) whose config repo is `app`'s; null when none. */
export function otherAppOnConfigDir(app: App): string | null {
  const mine = canonical(configDir(app));
  const self = canonical(app.dir);
  for (const registration of listRegistrations()) {
    if (!registration.enabled || canonical(registration.dir) === self) continue;
    let theirs: string;
    try {
      theirs = canonical(configDir(loadApp(registration.dir)));
    } catch {
      continue; // its protocol.json is broken or gone: its own start says so
    }
    if (theirs === mine) return registration.dir;
  }
  return null;
}

/** The refusal (or, for a restart, the warning) when another app uses `app`'s config repo. */
export function sharedConfigDirError(app: App, other: string): PreconditionError {
  return new PreconditionError(
    `the config repo ${configDir(app)} is already used by the app in ${other}: two apps on one config repo switch each other's environment`,
    `give this app a config repo of its own (configuration.local in its protocol.json), or stop the other first: protocol stop --dir ${other}`,
  );
}

/** config:init, config:switch, config:link and start: refused when another app on this machine uses the dir. */
export function assertOwnConfigDir(app: App): void {
  const other = otherAppOnConfigDir(app);
  if (other) throw sharedConfigDirError(app, other);
}
