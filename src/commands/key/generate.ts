import { parseWholeNumber, wholeNumberArg } from "../../lib/core/argv.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { log } from "../../lib/core/log.ts";
import { printJson, printText } from "../../lib/core/output.ts";
import { parseSshHost } from "../../lib/host/ssh-config.ts";
import { generateDeployKey } from "../../lib/host/ssh-key.ts";
import { jsonArgs } from "../_args.ts";

const portArg = wholeNumberArg("The git host's ssh port (default: 22, or the URL's)", "port", {
  min: 1,
  max: 65535,
  example: 22,
});

export default defineProtocolCommand({
  meta: { name: "key:generate" },
  args: {
    name: {
      type: "positional",
      required: false,
      description: "Key name: the key is ~/.ssh/protocol_<name> (default: deploy)",
      valueHint: "name",
    },
    host: {
      type: "string",
      description: "The git host, or the repo's ssh URL (default: github.com)",
      valueHint: "host|url",
    },
    port: portArg,
    scan: {
      type: "boolean",
      description: "Add the host's key to ~/.ssh/known_hosts (ssh-keyscan) and print its fingerprint",
    },
    force: { type: "boolean", description: "Replace an existing key of that name (the old one is kept as a backup)" },
    ...jsonArgs,
  },
  async run({ args }) {
    const host = parseSshHost(args.host ?? "github.com");
    if (!host)
      throw new UsageError(
        `--host ${JSON.stringify(args.host)} is not an ssh host or ssh git URL`,
        "https remotes need no deploy key",
      );
    host.port = parseWholeNumber("port", args.port, portArg.wholeNumber) ?? host.port;
    if (host.port !== null && !(Number.isInteger(host.port) && host.port > 0 && host.port < 65536))
      throw new UsageError(`the port in --host must be a TCP port (got ${host.port})`, "use a port from 1 to 65535");
    const key = await generateDeployKey({
      name: args.name ?? "deploy",
      host,
      force: Boolean(args.force),
      scan: Boolean(args.scan),
    });
    if (args.json) return printJson(key);
    for (const backup of key.replaced) log.info(`the previous key is kept as ${backup}`);
    log.success(`wrote ${key.path} (${key.fingerprint})`);
    if (key.sshConfig.changed)
      log.info(
        `ssh uses it for ${key.host}: block added to ${key.sshConfig.path}${key.sshConfig.backup ? ` (previous config saved to ${key.sshConfig.backup})` : ""}`,
      );
    for (const fingerprint of key.knownHosts?.fingerprints ?? [])
      log.info(`host key of ${key.host}: ${fingerprint} — compare it with the one your git host publishes`);
    log.info("add this public key to the repository as a read-only deploy key:");
    printText(key.publicKey);
  },
});
