/**
 * The blocks protocol owns in ~/.ssh/config: one per deploy key, between marker lines, so that
 * writing the same key twice gives the same file and everything outside is kept byte for byte.
 */
import { UsageError } from "../core/errors.ts";
import { assertNoControlChars } from "../core/validate.ts";

export interface SshHost {
  host: string;
  port: number | null;
  user: string | null;
}

export interface SshBlock extends SshHost {
  name: string;
  /** The `Host` pattern: the alias this key answers to (default: the real host). */
  alias?: string;
  identityFile: string;
  /** Trust the host key on first use (a fresh node from cloud-init has nobody to ask). */
  acceptNewHostKey?: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const HOST = /^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/;
/** An ssh login name: nothing that could end the `User` line or start an option of its own. */
const USER = /^[A-Za-z0-9._][A-Za-z0-9._-]*$/;

/** A key name made from an app's name: what a key name may not hold becomes '-'. */
export function keyNameFor(appName: string): string {
  return appName.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "") || "deploy";
}

export function assertKeyName(name: string): string {
  if (!NAME.test(name))
    throw new UsageError(`key name ${JSON.stringify(name)} must be letters, digits, '.', '_' or '-'`);
  return name;
}

/**
 * The ssh host of a git remote or a bare host name: `git@github.com:o/r.git`,
 * `ssh://git@host:2222/o/r.git`, `github.com`. Null for https and local remotes, which need no key.
 */
export function parseSshHost(remote: string): SshHost | null {
  const url = /^ssh:\/\/(?:([^@/]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\//.exec(remote);
  if (url) return valid({ user: url[1] ?? null, host: url[2]!, port: url[3] ? Number(url[3]) : null });
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote) || remote.startsWith("/") || remote.startsWith(".")) return null;
  const scp = /^(?:([^@:/]+)@)?([^:/]+):(?!\/\/)/.exec(remote);
  if (scp) return valid({ user: scp[1] ?? null, host: scp[2]!, port: null });
  return HOST.test(remote) ? { host: remote, port: null, user: null } : null;
}

function valid(host: SshHost): SshHost | null {
  const port = host.port === null || (host.port > 0 && host.port < 65536);
  return HOST.test(host.host) && port && (host.user === null || USER.test(host.user)) ? host : null;
}

/**
 * The ssh alias of a deploy key: `protocol-<name>`. GitHub and GitLab deploy keys belong to one
 * repo each, and ssh offers every key whose `Host` matches in file order, so two keys under
 * `Host github.com` shadow each other; one alias per key (and per repo) never does.
 */
export function hostAlias(name: string): string {
  return `protocol-${assertKeyName(name)}`;
}

/**
 * A git URL with its host replaced by an ssh alias: `git@github.com:acme/shop.git` →
 * `git@protocol-shop:acme/shop.git`, `ssh://git@host:2222/x.git` → `ssh://git@protocol-shop/x.git`
 * (the port lives in the alias's block). Null for a URL that is not ssh.
 */
export function aliasedUrl(url: string, alias: string): string | null {
  const full = /^ssh:\/\/(?:([^@/]+)@)?(\[[^\]]+\]|[^:/]+)(?::\d+)?(\/.*)$/.exec(url);
  if (full) return `ssh://${full[1] ? `${full[1]}@` : ""}${alias}${full[3]}`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || url.startsWith("/") || url.startsWith(".")) return null;
  const scp = /^(?:([^@:/]+)@)?([^:/]+):(?!\/\/)(.+)$/.exec(url);
  return scp ? `${scp[1] ? `${scp[1]}@` : ""}${alias}:${scp[3]}` : null;
}

export const beginMarker = (name: string) => `# BEGIN protocol key ${name} (managed by protocol key:generate)`;
export const endMarker = (name: string) => `# END protocol key ${name}`;

/** ssh_config quoting: double quotes around anything with a space (renderSshBlock refuses a double quote). */
const quote = (value: string) => (/[\s#]/.test(value) ? `"${value}"` : value);

export function renderSshBlock(block: SshBlock): string[] {
  // A newline in the path would start an ssh option of its own (ProxyCommand runs a program).
  assertNoControlChars(block.identityFile, "the key path", "use a key path without control characters");
  if (block.identityFile.includes('"'))
    throw new UsageError(`the key path ${JSON.stringify(block.identityFile)} contains a double quote`);
  return [
    beginMarker(block.name),
    `Host ${block.alias ?? block.host}`,
    `  HostName ${block.host.replace(/^\[|\]$/g, "")}`,
    ...(block.port ? [`  Port ${block.port}`] : []),
    ...(block.user ? [`  User ${block.user}`] : []),
    `  IdentityFile ${quote(block.identityFile)}`,
    "  IdentitiesOnly yes",
    ...(block.acceptNewHostKey ? ["  StrictHostKeyChecking accept-new"] : []),
    endMarker(block.name),
  ];
}

/**
 * Put the key's block into an ssh config text: replace it where it is, else append it (appended,
 * because a block put first would capture the file's leading global options).
 */
export function withSshBlock(text: string, block: SshBlock): string {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const rendered = renderSshBlock(block);
  const begin = lines.indexOf(beginMarker(block.name));
  const end = begin === -1 ? -1 : lines.indexOf(endMarker(block.name), begin);
  if (begin !== -1 && end !== -1) lines.splice(begin, end - begin + 1, ...rendered);
  else {
    if (lines.length > 0 && lines.at(-1)!.trim() !== "") lines.push("");
    lines.push(...rendered);
  }
  return `${lines.join("\n")}\n`;
}
