import { defineProtocolCommand } from "../../lib/core/command.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { freezeEnv } from "../../lib/fleet/control.ts";
import { envToWrite, fleetLocation } from "../../lib/fleet/location.ts";
import { dirArgs, fleetArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "rollout:freeze" },
  args: {
    ...dirArgs,
    ...jsonArgs,
    ...fleetArgs,
    reason: { type: "string", description: "Why (shown by status and fleet on every node)", valueHint: "text" },
  },
  async run({ args }) {
    if (!args.reason?.trim()) throw new UsageError("say why: --reason <text>", 'e.g. --reason "incident 42"');
    const location = fleetLocation(args);
    const env = envToWrite(location);
    const record = await freezeEnv(location.url, env, args.reason.trim());
    if (args.json) return printJson({ env, ...record });
    log.success(`froze ${env}: its nodes hold every new commit until protocol rollout:unfreeze --env ${env}`);
  },
});
