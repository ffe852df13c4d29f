import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { backupFile } from "../core/backup.ts";
import { NetworkError, PreconditionError, StepFailedError } from "../core/errors.ts";
import { readTextOrNull, writeFileAtomic } from "../core/fs.ts";
import { run } from "../core/spawn.ts";
import { setGlobalInsteadOf } from "../git/global-config.ts";
import { aliasedUrl, assertKeyName, hostAlias, type SshHost, withSshBlock } from "./ssh-config.ts";

export interface DeployKeyOptions {
  name: string;
  host: SshHost;
  /** The repo's git URL: git is told to reach it through the key's alias (null: a bare host). */
  repo: string | null;
  force: boolean;
  scan: boolean;
}

export interface DeployKey {
  name: string;
  /** A new key pair was made (false: the existing one was kept). */
  created: boolean;
  path: string;
  publicKey: string;
  fingerprint: string;
  host: string;
  /** The ssh `Host` this key answers to: `protocol-<name>`. */
  alias: string;
  /** The repo's URL through the alias, which git now uses for `repo` (null without a repo). */
  aliasedUrl: string | null;
  /** The `url.<aliased>.insteadOf <repo>` rule in the global git config changed. */
  insteadOfChanged: boolean;
  sshConfig: { path: string; changed: boolean; backup: string | null };
  /** Backups of a key replaced with --force. */
  replaced: string[];
  knownHosts: { path: string; added: number; fingerprints: string[] } | null;
}

export function sshDir(env: Record<string, string | undefined> = process.env): string {
  return join(env.HOME || homedir(), ".ssh");
}

async function keygen(args: string[], input?: string): Promise<string> {
  const result = await run(["ssh-keygen", ...args], { input });
  if (!result.ok)
    throw new StepFailedError(`ssh-keygen ${args[0]} failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
  return result.stdout.trim();
}

/** A fresh ed25519 key without a passphrase: written beside the target, then renamed into place. */
async function createKey(path: string, name: string): Promise<void> {
  const staged = `${path}.${process.pid}.tmp`;
  rmSync(staged, { force: true });
  rmSync(`${staged}.pub`, { force: true });
  await keygen(["-q", "-t", "ed25519", "-N", "", "-C", `protocol-${name}@${hostname()}`, "-f", staged]);
  chmodSync(staged, 0o600);
  renameSync(`${staged}.pub`, `${path}.pub`);
  renameSync(staged, path);
}

function writeSshConfig(dir: string, options: DeployKeyOptions, identityFile: string): DeployKey["sshConfig"] {
  const path = join(dir, "config");
  const before = readTextOrNull(path) ?? "";
  const after = withSshBlock(before, {
    ...options.host,
    name: options.name,
    alias: hostAlias(options.name),
    identityFile,
  });
  if (after === before) return { path, changed: false, backup: null };
  const backup = backupFile(path);
  writeFileAtomic(path, after, 0o600);
  return { path, changed: true, backup };
}

/** ssh-keyscan the host, add the lines known_hosts lacks, and return the keys' fingerprints. */
async function scanHostKeys(dir: string, host: SshHost): Promise<NonNullable<DeployKey["knownHosts"]>> {
  const name = host.host.replace(/^\[|\]$/g, "");
  const scan = await run(["ssh-keyscan", "-T", "10", ...(host.port ? ["-p", String(host.port)] : []), "--", name]);
  const lines = scan.stdout.split("\n").filter((line) => line.trim() && !line.startsWith("#"));
  if (lines.length === 0)
    throw new NetworkError(
      `ssh-keyscan got no host key from ${name}: ${scan.stderr.trim() || `exit ${scan.exitCode}`}`,
      "check the host name and that port 22 (or --port) is reachable",
    );
  const path = join(dir, "known_hosts");
  const known = new Set((readTextOrNull(path) ?? "").split("\n"));
  const added = lines.filter((line) => !known.has(line));
  if (added.length > 0) appendFileSync(path, `${added.join("\n")}\n`, { mode: 0o600 });
  const fingerprints = (await keygen(["-l", "-f", "-"], `${lines.join("\n")}\n`)).split("\n").filter(Boolean);
  return { path, added: added.length, fingerprints };
}

/**
 * key:generate: the key, its ssh alias block, git's rule for the repo, optionally the host key.
 * Safe to run twice: an existing key is kept (and its block and rule checked); only --force
 * replaces it, keeping the old one as a backup. Half a key pair is never reused.
 */
export async function generateDeployKey(options: DeployKeyOptions): Promise<DeployKey> {
  const dir = sshDir();
  const path = join(dir, `protocol_${assertKeyName(options.name)}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const both = existsSync(path) && existsSync(`${path}.pub`);
  const some = existsSync(path) || existsSync(`${path}.pub`);
  if (some && !both && !options.force)
    throw new PreconditionError(
      `only half of the key pair ${path} exists`,
      "pass --force to make a new pair (what is there is kept as a backup)",
    );
  const created = !both || options.force;
  const replaced =
    some && created ? [backupFile(path), backupFile(`${path}.pub`)].filter((p): p is string => p !== null) : [];
  if (created) await createKey(path, options.name);
  const sshConfig = writeSshConfig(dir, options, path);
  // The alias, and not core.sshCommand or GIT_SSH_COMMAND, carries the key: it works for every ssh
  // that git (protocol's or a person's) runs for that repo, and for `ssh -T <alias>`; and the
  // insteadOf rule keeps the repo's real URL in protocol.json and .git/config, so clones made later
  // (a config repo that start clones) go through the alias too.
  const alias = hostAlias(options.name);
  const aliased = options.repo ? aliasedUrl(options.repo, alias) : null;
  const insteadOfChanged = aliased && options.repo ? await setGlobalInsteadOf(aliased, options.repo) : false;
  const knownHosts = options.scan ? await scanHostKeys(dir, options.host) : null;
  return {
    name: options.name,
    created,
    path,
    publicKey: readFileSync(`${path}.pub`, "utf8").trim(),
    fingerprint: await keygen(["-l", "-f", `${path}.pub`]),
    host: options.host.host,
    alias,
    aliasedUrl: aliased,
    insteadOfChanged,
    sshConfig,
    replaced,
    knownHosts,
  };
}

/**
 * Where ssh really connects for a host as a git URL names it: an alias from ~/.ssh/config
 * (`protocol-shop`) resolves to its HostName and Port (`ssh -G`); without ssh, the host as given.
 */
export async function resolveSshHost(host: SshHost): Promise<SshHost> {
  const name = host.host.replace(/^\[|\]$/g, "");
  let result: Awaited<ReturnType<typeof run>>;
  try {
    // The config key:generate writes (ssh itself reads the passwd entry's home, the same one for root).
    const config = join(sshDir(), "config");
    result = await run([
      "ssh",
      "-G",
      ...(existsSync(config) ? ["-F", config] : []),
      ...(host.port ? ["-p", String(host.port)] : []),
      "--",
      name,
    ]);
  } catch {
    return host;
  }
  if (!result.ok) return host;
  const field = (key: string) => new RegExp(`^${key} (\\S+)$`, "m").exec(result.stdout)?.[1];
  const hostname = field("hostname") ?? name;
  const port = Number(field("port") ?? host.port ?? 22);
  return { ...host, host: hostname.includes(":") ? `[${hostname}]` : hostname, port: port === 22 ? null : port };
}
