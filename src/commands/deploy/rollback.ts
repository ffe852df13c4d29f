import { loadApp } from "../../lib/app/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson, shortSha } from "../../lib/core/output.ts";
import { rollbackByHand } from "../../lib/node/manual-rollback.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "deploy:rollback" },
  args: {
    ...dirArgs,
    ...jsonArgs,
    to: {
      type: "string",
      description: "Roll back to this commit instead of the previous good deploy",
      valueHint: "commit",
    },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    const done = await rollbackByHand(app, { to: args.to });
    if (args.json) return printJson({ dir: app.dir, ...done, paused: true });
    log.success(
      `rolled back ${shortSha(done.from)} → ${shortSha(done.to)}${done.backupRef ? `; local commits kept as ${done.backupRef}` : ""}`,
    );
    log.info("slave mode holds this commit until you run protocol start (or protocol git:slave)");
  },
});
