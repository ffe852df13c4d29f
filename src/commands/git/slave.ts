import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand } from "../../lib/command.ts";
import { startSlaveInBackground } from "../../lib/daemon.ts";
import { assertWorkTree } from "../../lib/git.ts";
import { log } from "../../lib/log.ts";
import { slaveFlags } from "../../lib/node.ts";
import { printJson } from "../../lib/output.ts";
import { resumeFollowing } from "../../lib/manual-rollback.ts";
import { runSlaveLoop } from "../../lib/slave.ts";
import { dirArgs, intervalArgs, jsonArgs, policyArgs, readInterval, readPolicies } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "git:slave", description: "Run slave mode: keep the working copy at the remote tip (in the background)" },
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
    resumeFollowing(app);
    const started = await startSlaveInBackground(app, slaveFlags(options));
    if (args.json) return printJson({ dir: app.dir, ...started, log: app.paths.log });
    if (started.alreadyRunning) log.info(`slave mode is already running for ${app.dir} (pid ${started.pid})`);
    else log.success(`slave mode started for ${app.dir} (pid ${started.pid}); log: ${app.paths.log}`);
  },
});
