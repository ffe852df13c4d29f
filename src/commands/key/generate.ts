import { loadApp, remoteName } from "../../lib/app/app.ts";
import { parseWholeNumber, wholeNumberArg } from "../../lib/core/argv.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { log } from "../../lib/core/log.ts";
import { printJson, printText } from "../../lib/core/output.ts";
import { hasControlChars, redactUrl } from "../../lib/core/validate.ts";
import { remoteUrl } from "../../lib/git/git.ts";
import { keyNameFor, parseSshHost } from "../../lib/host/ssh-config.ts";
import { generateDeployKey } from "../../lib/host/ssh-key.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

const portArg = wholeNumberArg("The git host's ssh port (default: 22, or the URL's)", "port", {
  min: 1,
  max: 65535,
  example: 22,
});

/** The repo the key is for: --repo, else --host (an older spelling), else the app's own remote. */
async function targetRepo(args: { repo?: string; host?: string; dir?: string }): Promise<string> {
  const given = args.repo ?? args.host;
  if (given) return given;
  let app: ReturnType<typeof loadApp>;
  try {
    app = loadApp(args.dir);
  } catch {
    throw new UsageError(
      "which repo is the key for? no --repo given and no app here",
      "pass the repo's ssh URL: protocol key:generate <name> --repo git@github.com:acme/shop.git",
    );
  }
  const url = await remoteUrl({ dir: app.dir }, remoteName(app));
  if (!url)
    throw new UsageError(
      `the app in ${app.dir} has no remote ${remoteName(app)}`,
      "pass the repo's ssh URL: protocol key:generate <name> --repo <url>",
    );
  return url;
}

export default defineProtocolCommand({
  meta: { name: "key:generate" },
  args: {
    name: {
      type: "positional",
      required: false,
      description:
        "Key name: the key is ~/.ssh/protocol_<name>, its ssh alias protocol-<name> (default: the app's name)",
      valueHint: "name",
    },
    repo: {
      type: "string",
      description: "The repo's ssh URL (default: the app's remote); git reaches it through the key's alias",
      valueHint: "url",
    },
    host: {
      type: "string",
      description: "A bare git host instead of a repo (only the alias is written), or a repo URL as --repo",
      valueHint: "host|url",
    },
    ...dirArgs,
    port: portArg,
    scan: {
      type: "boolean",
      description: "Add the host's key to ~/.ssh/known_hosts (ssh-keyscan) and print its fingerprint",
    },
    force: {
      type: "boolean",
      description: "Make a new key even if one of that name exists (the old one is kept as a backup)",
    },
    ...jsonArgs,
  },
  async run({ args }) {
    const repo = await targetRepo(args);
    // It reaches ~/.ssh/config and ~/.gitconfig: a newline there would start an entry of its own.
    if (hasControlChars(repo))
      throw new UsageError(
        `the repo URL ${JSON.stringify(redactUrl(repo))} contains a control character (newline, CR, tab…)`,
        "pass the repo's ssh URL on one line: protocol key:generate <name> --repo git@github.com:acme/shop.git",
      );
    const host = parseSshHost(repo);
    if (!host)
      throw new UsageError(
        `${JSON.stringify(redactUrl(repo))} is not an ssh host or ssh git URL`,
        "https remotes need no deploy key (use PROTOCOL_GIT_USERNAME / PROTOCOL_GIT_PASSWORD)",
      );
    host.port = parseWholeNumber("port", args.port, portArg.wholeNumber) ?? host.port;
    const name = args.name ?? (args.repo || args.host ? undefined : keyNameFor(loadApp(args.dir).name));
    if (!name)
      throw new UsageError("which name? a key per repo needs one", "protocol key:generate <name> --repo <url>");
    const hasPath = repo !== host.host && /[:/]/.test(repo.replace(/^ssh:\/\/[^/]*/, ""));
    const key = await generateDeployKey({
      name,
      host,
      repo: hasPath ? repo : null,
      force: Boolean(args.force),
      scan: Boolean(args.scan),
    });
    if (args.json) return printJson(key);
    for (const backup of key.replaced) log.info(`the previous key is kept as ${backup}`);
    log.success(`${key.created ? "wrote" : "kept the existing key"} ${key.path} (${key.fingerprint})`);
    if (key.sshConfig.changed)
      log.info(
        `ssh alias ${key.alias} → ${key.host}: block added to ${key.sshConfig.path}${key.sshConfig.backup ? ` (previous config saved to ${key.sshConfig.backup})` : ""}`,
      );
    if (key.aliasedUrl)
      log.info(
        `git reaches ${redactUrl(repo)} through ${key.aliasedUrl} (url.insteadOf in ~/.gitconfig${key.insteadOfChanged ? "" : ", already there"})`,
      );
    else log.info(`use ${key.alias} as the host in the repo's ssh URL (e.g. git@${key.alias}:owner/repo.git)`);
    for (const fingerprint of key.knownHosts?.fingerprints ?? [])
      log.info(`host key of ${key.host}: ${fingerprint} — compare it with the one your git host publishes`);
    log.info("add this public key to the repository as a read-only deploy key:");
    printText(key.publicKey);
  },
});
