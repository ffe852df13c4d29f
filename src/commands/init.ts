import { loadApp } from "../lib/app/app.ts";
import { defineProtocolCommand } from "../lib/core/command.ts";
import { UsageError } from "../lib/core/errors.ts";
import { log } from "../lib/core/log.ts";
import { printJson } from "../lib/core/output.ts";
import { askConfirm } from "../lib/core/prompt.ts";
import { planProtocolJson, writeProtocolJson } from "../lib/node/init.ts";
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
    const proposal = await planProtocolJson(app, Boolean(args.force));
    if (!args.yes) {
      if (!process.stdin.isTTY)
        throw new UsageError("init needs confirmation and there is no TTY", "pass --yes to take the defaults");
      process.stderr.write(proposal.text);
      if (!(await askConfirm(`Write this to ${proposal.path}?`, true))) return log.info("nothing written");
    }
    const { backup } = writeProtocolJson(app, proposal);
    if (args.json) return printJson({ path: proposal.path, backup, config: proposal.config });
    log.success(`wrote ${proposal.path}${backup ? ` (previous kept as ${backup})` : ""}; commit it with the app`);
  },
});
