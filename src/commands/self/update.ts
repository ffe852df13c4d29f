import { defineProtocolCommand } from "../../lib/core/command.ts";
import { EXIT } from "../../lib/core/errors.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { describeRestart, restartSlaveLoops } from "../../lib/node/slave-restart.ts";
import { checkForUpdate, rollbackSelf, updateSelf } from "../../lib/release/self-update.ts";
import { jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "self:update" },
  args: {
    check: {
      type: "boolean",
      description: `Only report whether an update exists (exit ${EXIT.updateAvailable} when one does)`,
    },
    version: {
      type: "string",
      description: "Install this version instead of the latest (also a downgrade)",
      valueHint: "x.y.z",
    },
    rollback: { type: "boolean", description: "Put back the binary kept as protocol.bak by the last update" },
    ...jsonArgs,
  },
  async run({ args }) {
    if (args.check) {
      const check = await checkForUpdate(args.version);
      if (check.updateAvailable) process.exitCode = EXIT.updateAvailable;
      if (args.json) return printJson(check);
      return log.info(
        check.updateAvailable
          ? `protocol ${check.latest} is available (this is ${check.current}): run protocol self:update`
          : check.latest === check.current
            ? `protocol ${check.current} is up to date`
            : `protocol ${check.current} is newer than the latest release (${check.latest}): nothing to update`,
      );
    }
    if (args.rollback) {
      // The loops run the binary at its path: restarted, they run the one now in place.
      const rolled = { ...(await rollbackSelf()), restarted: await restartSlaveLoops() };
      if (args.json) return printJson(rolled);
      log.success(
        `rolled back ${rolled.path} from ${rolled.from} to ${rolled.to} (${rolled.from} is kept as ${rolled.backup}); ${rolled.restarted.length} slave loop(s) restarted`,
      );
      for (const loop of rolled.restarted) log.info(describeRestart(loop));
      return;
    }
    const updated = await updateSelf(args.version);
    const result = { ...updated, restarted: updated.updated ? await restartSlaveLoops() : [] };
    if (args.json) return printJson(result);
    if (!result.updated)
      return log.info(`protocol ${result.from} is installed; the release is ${result.to}: nothing to do`);
    log.success(
      `updated ${result.path} from ${result.from} to ${result.to}; the previous binary is kept as ${result.backup}`,
    );
    if (result.restarted.length > 0)
      log.info(
        `restarted ${result.restarted.filter((r) => !r.error).length} of ${result.restarted.length} slave loop(s) on the new binary`,
      );
    for (const loop of result.restarted) log.info(describeRestart(loop));
  },
});
