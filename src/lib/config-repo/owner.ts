/**
 * One config repo per app. A config repo has one checked-out branch, so two apps on one dir (the
 * same configuration.local, or two clones of one app side by side) switch each other's environment
 * and run two loops on one repo. Before a second app takes the dir, two things are asked: the apps
 * this state dir runs (their registrations, written by start), and the config repo itself, which
 * names the app that took it last (`.git/protocol/app.json`) whatever state dir that app runs with:
 * while that app's loop runs, the dir is its.
 */
import { existsSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { type App, loadApp } from "../app/app.ts";
import { isStale, readLockHolder } from "../app/lock.ts";
import { listRegistrations } from "../app/state.ts";
import { PreconditionError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/fs.ts";
import { readJsonFile } from "../core/json-file.ts";
import { configDir } from "./repo.ts";

const ClaimSchema = v.object({ dir: v.string() });

/** Where a config repo names the app that took it last. */
function claimPath(dir: string): string {
  return join(dir, ".git", "protocol", "app.json");
}

/** Whether the app in `dir` has its loop running, by its working copy's own lock (any state dir's). */
function loopRuns(dir: string): boolean {
  const holder = readLockHolder(join(dir, ".git", "protocol", "git-slave.lock"));
  return holder !== null && !isStale(holder);
}

/** The app whose loop runs on `app`'s config repo by its claim, when it is another one; null otherwise. */
function claimedByAnother(app: App): string | null {
  const dir = configDir(app);
  const claim = readJsonFile<{ dir: string } | null>(claimPath(dir), ClaimSchema, null);
  if (!claim || canonical(claim.dir) === canonical(app.dir)) return null;
  return existsSync(claim.dir) && loopRuns(claim.dir) ? claim.dir : null;
}

/** Name `app` in its config repo as the app that took it (when the repo is there). */
export function claimConfigDir(app: App): void {
  const dir = configDir(app);
  if (!existsSync(join(dir, ".git"))) return;
  try {
    writeFileAtomic(claimPath(dir), `${JSON.stringify({ dir: app.dir })}\n`);
  } catch {
    // a read-only or full config repo: the registrations still say it
  }
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * The dir of another app whose config repo is `app`'s: one whose loop runs on it by the repo's claim
 * (whatever its state dir), or one registered in this state dir and not stopped; null when none.
 */
export function otherAppOnConfigDir(app: App): string | null {
  const claimed = claimedByAnother(app);
  if (claimed) return claimed;
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
  claimConfigDir(app);
}
