import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand } from "../../lib/command.ts";
import { log } from "../../lib/log.ts";
import { rollbackByHand } from "../../lib/manual-rollback.ts";
import { printJson, shortSha } from "../../lib/output.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "deploy:rollback", description: "Put the node back on the previous good deploy (commit and image digests) and hold it there" },
  args: {
    ...dirArgs,
    ...jsonArgs,
    to: { type: "string", description: "Roll back to this commit instead of the previous good deploy", valueHint: "commit" },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    const done = await rollbackByHand(app, { to: args.to });
    if (args.json) return printJson({ dir: app.dir, ...done, paused: true });
    log.success(`rolled back ${shortSha(done.from)} → ${shortSha(done.to)}${done.backupRef ? `; local commits kept as ${done.backupRef}` : ""}`);
    log.info("slave mode holds this commit until you run protocol start (or protocol git:slave)");
  },
});
