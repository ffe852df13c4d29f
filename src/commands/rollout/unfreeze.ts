import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { unfreezeEnv } from "../../lib/fleet/control.ts";
import { envToWrite, fleetLocation } from "../../lib/fleet/location.ts";
import { dirArgs, fleetArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "rollout:unfreeze" },
  args: { ...dirArgs, ...jsonArgs, ...fleetArgs },
  async run({ args }) {
    const location = fleetLocation(args);
    const env = envToWrite(location);
    const lifted = await unfreezeEnv(location.url, env);
    if (args.json) return printJson({ env, lifted });
    if (lifted) log.success(`unfroze ${env}: its nodes deploy the remote's commit at their next check`);
    else log.info(`${env} was not frozen`);
  },
});
