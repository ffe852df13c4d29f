/**
 * `protocol cloud-init`: #cloud-config user-data for a fresh VPS. cloud-init installs git, writes
 * the deploy key and a bootstrap script; the script installs docker and protocol, clones the app
 * (and its config repo) and runs `protocol start`. Rendering is pure; values are validated first.
 */
import { isAbsolute } from "node:path";
import { PreconditionError, UsageError } from "../core/errors.ts";
import { readTextOrNull } from "../core/fs.ts";
import { branchNameProblem } from "../core/refname.ts";
import { shellQuote } from "../core/shell.ts";
import { hasControlChars } from "../core/validate.ts";
import { DEFAULT_DOWNLOAD_URL, releaseFileUrl } from "../release/metadata.ts";
import { aliasedUrl, hostAlias, parseSshHost, renderSshBlock } from "./ssh-config.ts";

export interface UserDataOptions {
  repo: string;
  branch?: string;
  /** Where the app is cloned on the node. */
  dir: string;
  env?: string;
  configRepo?: string;
  /** The app repo's private deploy key, written to /root/.ssh/protocol_app. */
  deployKey?: string;
  /** The config repo's own private deploy key (a deploy key belongs to one repo), /root/.ssh/protocol_config. */
  configDeployKey?: string;
  downloadUrl?: string;
  /** A mirror's release key (PROTOCOL_MINISIGN_PUBKEY where cloud-init is run): install.sh checks with it. */
  minisignPublicKey?: string;
  /** Pin the protocol release the node installs (default: the latest). */
  version?: string;
}

/** Each repo's key, and the ssh alias (hostAlias) it answers to: the names key:generate would use. */
export const KEYS = {
  app: { name: "app", path: "/root/.ssh/protocol_app" },
  config: { name: "config", path: "/root/.ssh/protocol_config" },
} as const;
export const BOOTSTRAP_PATH = "/usr/local/sbin/protocol-bootstrap";

function check(ok: boolean, message: string): void {
  if (!ok) throw new UsageError(message);
}

export function validateUserDataOptions(options: UserDataOptions): void {
  const plain = (value: string) => !hasControlChars(value);
  check(
    options.repo !== "" && plain(options.repo) && !options.repo.startsWith("-"),
    `--repo ${JSON.stringify(options.repo)} is not a git URL`,
  );
  check(
    !options.configRepo || (plain(options.configRepo) && !options.configRepo.startsWith("-")),
    "--config-repo is not a git URL",
  );
  check(
    isAbsolute(options.dir) && plain(options.dir) && options.dir !== "/",
    `--dir must be an absolute path on the node (got ${JSON.stringify(options.dir)})`,
  );
  check(
    !options.branch || branchNameProblem(options.branch) === null,
    `--branch ${JSON.stringify(options.branch)} is not a branch name`,
  );
  check(
    !options.env || /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(options.env),
    `--env ${JSON.stringify(options.env)} must be letters, digits, '.', '_' or '-'`,
  );
  check(
    !options.version || /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(options.version),
    `--protocol-version ${JSON.stringify(options.version)} is not a version like 1.2.3`,
  );
  check(!options.deployKey || options.deployKey.includes("PRIVATE KEY-----"), "--deploy-key-file is not a private key");
  check(
    !options.configDeployKey || options.configDeployKey.includes("PRIVATE KEY-----"),
    "--config-deploy-key-file is not a private key",
  );
  check(!options.configDeployKey || Boolean(options.configRepo), "--config-deploy-key-file needs --config-repo");
  check(
    !options.minisignPublicKey || /^[A-Za-z0-9+/]+={0,2}$/.test(options.minisignPublicKey),
    "PROTOCOL_MINISIGN_PUBKEY is not a minisign public key (its base64 line)",
  );
}

/** The script cloud-init's runcmd runs: idempotent, so a rerun by hand goes on where it failed. */
export function renderBootstrap(options: UserDataOptions): string {
  const base = options.downloadUrl ?? DEFAULT_DOWNLOAD_URL;
  const installer = releaseFileUrl(base, options.version ?? null, "install.sh");
  const installEnv = [
    `PROTOCOL_DOWNLOAD_URL=${shellQuote(base)}`,
    ...(options.version ? [`PROTOCOL_VERSION=${shellQuote(options.version.replace(/^v/, ""))}`] : []),
    ...(options.minisignPublicKey ? [`PROTOCOL_MINISIGN_PUBKEY=${shellQuote(options.minisignPublicKey)}`] : []),
  ];
  const clone = (repo: string, dir: string, branch?: string) =>
    `[ -d ${shellQuote(`${dir}/.git`)} ] || git clone ${branch ? `--branch ${shellQuote(branch)} ` : ""}-- ${shellQuote(repo)} ${shellQuote(dir)}`;
  // Each repo with its own key goes through that key's ssh alias (as key:generate sets it up).
  const rules = repoKeys(options).map(
    ({ url, aliased }) =>
      `git config --global --replace-all ${shellQuote(`url.${aliased}.insteadOf`)} ${shellQuote(url)}`,
  );
  return [
    "#!/usr/bin/env bash",
    "# Written by protocol cloud-init; cloud-init runs it once, and it is safe to run again by hand.",
    "set -euo pipefail",
    "export HOME=/root PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin",
    "command -v docker >/dev/null 2>&1 || curl -fsSL https://get.docker.com | sh",
    // The @reboot line needs cron running (some images install it stopped, or not at all).
    "systemctl enable --now cron >/dev/null 2>&1 || service cron start >/dev/null 2>&1 || true",
    `curl -fsSL ${shellQuote(installer)} | ${installEnv.join(" ")} bash`,
    ...(rules.length > 0 ? ["chmod 700 /root/.ssh", ...repoKeys(options).map((k) => `chmod 600 ${k.path}`)] : []),
    ...rules,
    clone(options.repo, options.dir, options.branch),
    // The config repo on the environment's branch, whatever its remote's HEAD says.
    ...(options.configRepo ? [clone(options.configRepo, `${options.dir}-config`, options.env)] : []),
    `cd ${shellQuote(options.dir)}`,
    `protocol start${options.env ? ` ${shellQuote(options.env)}` : ""}`,
    "",
  ].join("\n");
}

/** The repos that have a key of their own and an ssh URL: the key, its alias, the URL through it. */
function repoKeys(options: UserDataOptions) {
  const candidates = [
    { repo: options.repo, key: options.deployKey, ...KEYS.app },
    { repo: options.configRepo, key: options.configDeployKey, ...KEYS.config },
  ];
  return candidates.flatMap(({ repo, key, name, path }) => {
    const host = repo ? parseSshHost(repo) : null;
    const aliased = repo ? aliasedUrl(repo, hostAlias(name)) : null;
    return repo && key && host && aliased ? [{ url: repo, key, name, path, host, aliased }] : [];
  });
}

/** The user-data as data: Bun.YAML writes it, so no value can break out of its place in the document. */
export function userDataDocument(options: UserDataOptions): Record<string, unknown> {
  validateUserDataOptions(options);
  const files: Record<string, string | boolean>[] = [];
  const keys = repoKeys(options);
  for (const { path, key } of keys) files.push({ path, owner: "root:root", permissions: "0600", content: key });
  if (keys.length > 0) {
    const blocks = keys.map(({ name, host, path }) =>
      renderSshBlock({ ...host, name, alias: hostAlias(name), identityFile: path, acceptNewHostKey: true }),
    );
    files.push({
      path: "/root/.ssh/config",
      permissions: "0600",
      append: true,
      content: `${blocks.map((b) => b.join("\n")).join("\n")}\n`,
    });
  }
  files.push({ path: BOOTSTRAP_PATH, owner: "root:root", permissions: "0700", content: renderBootstrap(options) });
  return {
    package_update: true,
    packages: ["git", "curl", "ca-certificates", "cron"],
    write_files: files,
    runcmd: [[BOOTSTRAP_PATH]],
  };
}

export function renderUserData(options: UserDataOptions): string {
  const document = userDataDocument(options);
  const comment = `# protocol bootstrap: clone ${options.repo.replace(/\/\/[^@/]*@/, "//")} into ${options.dir} and keep it at the remote tip.`;
  return `#cloud-config\n${comment.replace(/[\r\n]/g, " ")}\n${Bun.YAML.stringify(document, null, 2)}\n`;
}

/** The deploy key file's text for the user-data; a public key by mistake is refused. */
export function readDeployKeyFile(path: string): string {
  const text = readTextOrNull(path);
  if (text === null)
    throw new PreconditionError(
      `deploy key file ${path} does not exist`,
      "make one with protocol key:generate, or pass the private key's path",
    );
  if (!text.includes("PRIVATE KEY-----"))
    throw new UsageError(
      `${path} is not a private key`,
      "pass the private key (not the .pub) the git host knows as a deploy key",
    );
  return text;
}
