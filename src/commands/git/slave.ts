import { loadApp } from "../../lib/app/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { assertWorkTree } from "../../lib/git/git.ts";
import { runSlaveLoop } from "../../lib/node/slave.ts";
import { dirArgs, intervalArgs, jsonArgs, policyArgs, readInterval, readPolicies } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "git:slave" },
  args: {
    ...dirArgs,
    ...intervalArgs,
    ...policyArgs,
    ...jsonArgs,
    foreground: { type: "boolean", description: "Stay attached (systemd, containers); stop with SIGTERM or Ctrl-C" },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    await assertWorkTree(app.dir);
    const options = { intervalSeconds: readInterval(args), ...readPolicies(args) };
    // --foreground is what systemd and restart run: it keeps a deploy:rollback hold; a person's git:slave ends it.
    if (args.foreground) return runSlaveLoop(app, options);
    // Imported here, not above: the loop process (--foreground) never needs them (bench/memory.ts).
    const { resumeFollowing } = await import("../../lib/node/manual-rollback.ts");
    const { followPart } = await import("../../lib/node/follow.ts");
    const { slaveFlags } = await import("../../lib/node/lifecycle.ts");
    resumeFollowing(app);
    const started = await followPart(app, "app", slaveFlags(options));
    if (args.json) return printJson({ dir: app.dir, ...started, log: app.paths.log });
    if (started.alreadyRunning) log.info(`slave mode is already running for ${app.dir} (pid ${started.pid})`);
    else log.success(`slave mode started for ${app.dir} (pid ${started.pid}); log: ${app.paths.log}`);
  },
});
