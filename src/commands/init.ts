import { consola } from "consola";
import { loadApp, parseProtocolJson } from "../lib/node/app.ts";
import { defineProtocolCommand } from "../lib/core/command.ts";
import { PreconditionError, UsageError } from "../lib/core/errors.ts";
import { backupFile, writeFileAtomic } from "../lib/core/fs.ts";
import { hasProtocolJson, proposeProtocolJson, protocolJsonPath } from "../lib/node/init.ts";
import { log } from "../lib/core/log.ts";
import { printJson } from "../lib/core/output.ts";
import { dirArgs, jsonArgs, yesArgs } from "./_args.ts";

export default defineProtocolCommand({
  meta: { name: "init" },
  args: {
    ...dirArgs,
    ...yesArgs,
    ...jsonArgs,
    force: { type: "boolean", description: "Replace an existing protocol.json (a backup is kept)" },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    const path = protocolJsonPath(app);
    if (hasProtocolJson(app) && !args.force) {
      throw new PreconditionError(`${path} already exists`, "edit it, or pass --force to replace it (a backup is kept)");
    }
    const proposal = await proposeProtocolJson(app);
    const text = `${JSON.stringify(proposal, null, 2)}\n`;
    if (!args.yes) {
      if (!process.stdin.isTTY) throw new UsageError("init needs confirmation and there is no TTY", "pass --yes to take the defaults");
      process.stderr.write(text);
      const ok = await consola.prompt(`Write this to ${path}?`, { type: "confirm", initial: true, cancel: "reject" });
      if (!ok) return log.info("nothing written");
    }
    parseProtocolJson(text, path);
    // The backup goes to the state dir: a stray file in the app would show up as untracked.
    const backup = args.force ? backupFile(path, app.paths.root) : null;
    writeFileAtomic(path, text);
    if (args.json) return printJson({ path, backup, config: proposal });
    log.success(`wrote ${path}${backup ? ` (previous kept as ${backup})` : ""}; commit it with the app`);
  },
});
