import { loadApp } from "../lib/app/app.ts";
import { gitSlaveDaemon, legacyConfigDaemon } from "../lib/app/loops.ts";
import { defineProtocolCommand } from "../lib/core/command.ts";
import { PreconditionError } from "../lib/core/errors.ts";
import { log } from "../lib/core/log.ts";
import { printJson } from "../lib/core/output.ts";
import { wakeDaemon } from "../lib/node/daemon.ts";
import { dirArgs, jsonArgs } from "./_args.ts";

export default defineProtocolCommand({
  meta: { name: "sync" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const app = loadApp(args.dir);
    const git = wakeDaemon(gitSlaveDaemon(app));
    // An older protocol's separate config loop, until start or restart replaces it.
    const config = wakeDaemon(legacyConfigDaemon(app));
    if (git === null && config === null)
      throw new PreconditionError(
        `slave mode is not running for ${app.dir}`,
        "start it (protocol start), or sync once in the foreground: protocol git:pull",
      );
    if (args.json) return printJson({ dir: app.dir, woken: { git, config } });
    for (const [name, pid] of [
      ["slave mode", git],
      ["config slave mode", config],
    ] as const)
      if (pid !== null) log.success(`${name} (pid ${pid}) polls now; follow it with protocol logs -f`);
  },
});
