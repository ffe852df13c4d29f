import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { parseCommitArg, releaseCommit } from "../../lib/fleet/control.ts";
import { envToWrite, fleetLocation } from "../../lib/fleet/location.ts";
import { dirArgs, fleetArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "rollout:release" },
  args: {
    sha: {
      type: "positional",
      description: "The held commit (7 or more hex digits)",
      valueHint: "sha",
      required: true,
    },
    ...dirArgs,
    ...jsonArgs,
    ...fleetArgs,
  },
  async run({ args }) {
    const commit = parseCommitArg(args.sha);
    const location = fleetLocation(args);
    const env = envToWrite(location);
    const record = await releaseCommit(location.url, env, commit);
    if (args.json) return printJson({ env, ...record });
    log.success(
      `released ${commit} in ${env}: nodes holding it deploy it at their next check, a canary's failure notwithstanding`,
    );
  },
});
