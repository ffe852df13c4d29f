import { defineProtocolCommand } from "../lib/core/command.ts";
import { PreconditionError } from "../lib/core/errors.ts";
import { printJson, printLines } from "../lib/core/output.ts";
import { checkNames, doctorReport, fatalFailures, renderChecks, renderSummary } from "../lib/host/doctor.ts";
import { runDoctor } from "../lib/node/doctor-checks.ts";
import { dirArgs, jsonArgs } from "./_args.ts";

export default defineProtocolCommand({
  meta: { name: "doctor" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const checks = await runDoctor(args.dir);
    if (args.json) printJson(doctorReport(checks));
    else printLines([...renderChecks(checks), "", renderSummary(checks)]);
    const failed = fatalFailures(checks);
    if (failed.length > 0) {
      throw new PreconditionError(
        `${failed.length} ${failed.length === 1 ? "check" : "checks"} failed: ${checkNames(failed)}`,
        "apply the fix on each ✖ line, then run protocol doctor again",
      );
    }
  },
});
