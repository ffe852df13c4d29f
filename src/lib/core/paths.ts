import { homedir } from "node:os";
import { basename, isAbsolute, join, resolve } from "node:path";

/**
 * protocol keeps everything it writes about a node in a per-user state dir, never in the app's
 * working tree: PROTOCOL_HOME, else $XDG_STATE_HOME/protocol, else ~/.local/state/protocol.
 */
export function stateHome(env: Record<string, string | undefined> = process.env): string {
  if (env.PROTOCOL_HOME) return env.PROTOCOL_HOME;
  const xdg = env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state");
  return join(xdg, "protocol");
}

/** A path from a config file: `~` is the user's home, a relative path is relative to `dir`. */
export function expandHome(path: string, dir: string): string {
  if (path === "~" || path.startsWith("~/")) return join(homedir(), path.slice(1));
  return isAbsolute(path) ? path : resolve(dir, path);
}

/** A stable, readable key for an app dir: its name plus a hash of its absolute path. */
export function appKey(dir: string): string {
  const name =
    basename(dir)
      .replace(/[^A-Za-z0-9._-]+/g, "_")
      .slice(0, 40) || "app";
  const hash = new Bun.CryptoHasher("sha256").update(dir).digest("hex").slice(0, 10);
  return `${name}-${hash}`;
}

export interface AppPaths {
  root: string;
  /** Held for one sync (git:pull, one poll). */
  syncLock: string;
  /** Held by the slave loop for its whole life; its holder is the loop's pid. */
  slaveLock: string;
  status: string;
  deploys: string;
  log: string;
  registration: string;
  /** Held by the config slave loop (config:slave) for its whole life. */
  configSlaveLock: string;
  configLog: string;
  /** The config repo's last poll and its failures (config:slave). */
  configStatus: string;
  /** Files protocol moved aside before overwriting them (config:link --force/--adopt, config:cp). */
  backups: string;
}

export function appPaths(dir: string, home = stateHome()): AppPaths {
  const root = join(home, "apps", appKey(dir));
  return {
    root,
    syncLock: join(root, "sync.lock"),
    slaveLock: join(root, "slave.lock"),
    status: join(root, "status.json"),
    deploys: join(root, "deploys.jsonl"),
    log: join(root, "slave.log"),
    registration: join(root, "app.json"),
    configSlaveLock: join(root, "config-slave.lock"),
    configLog: join(root, "config-slave.log"),
    configStatus: join(root, "config-status.json"),
    backups: join(root, "backups"),
  };
}

export function appsRoot(home = stateHome()): string {
  return join(home, "apps");
}
