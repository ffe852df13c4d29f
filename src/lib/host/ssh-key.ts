import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { backupFile } from "../core/backup.ts";
import { NetworkError, PreconditionError, StepFailedError } from "../core/errors.ts";
import { readTextOrNull, writeFileAtomic } from "../core/fs.ts";
import { run } from "../core/spawn.ts";
import { assertKeyName, type SshHost, withSshBlock } from "./ssh-config.ts";

export interface DeployKeyOptions {
  name: string;
  host: SshHost;
  force: boolean;
  scan: boolean;
}

export interface DeployKey {
  name: string;
  path: string;
  publicKey: string;
  fingerprint: string;
  host: string;
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
  const after = withSshBlock(before, { ...options.host, name: options.name, identityFile });
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

/** key:generate: the key, its ssh config block, optionally the host key; never overwrites without force. */
export async function generateDeployKey(options: DeployKeyOptions): Promise<DeployKey> {
  const dir = sshDir();
  const path = join(dir, `protocol_${assertKeyName(options.name)}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const exists = existsSync(path) || existsSync(`${path}.pub`);
  if (exists && !options.force)
    throw new PreconditionError(
      `${path} already exists`,
      "pass --force to replace it (the old key is kept as a backup)",
    );
  const replaced = exists ? [backupFile(path), backupFile(`${path}.pub`)].filter((p): p is string => p !== null) : [];
  await createKey(path, options.name);
  const sshConfig = writeSshConfig(dir, options, path);
  const knownHosts = options.scan ? await scanHostKeys(dir, options.host) : null;
  return {
    name: options.name,
    path,
    publicKey: readFileSync(`${path}.pub`, "utf8").trim(),
    fingerprint: await keygen(["-l", "-f", `${path}.pub`]),
    host: options.host.host,
    sshConfig,
    replaced,
    knownHosts,
  };
}
