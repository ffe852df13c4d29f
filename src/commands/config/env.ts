import { assertEnvName, isDevEnv, readMachineEnv, writeMachine } from "../../lib/config-repo/env.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson, printLines } from "../../lib/core/output.ts";
import { jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:env" },
  args: {
    env: {
      type: "positional",
      required: false,
      description: "The environment, e.g. production or localhost-jane",
      valueHint: "env",
    },
    ...jsonArgs,
    unset: { type: "boolean", description: "Clear this machine's environment" },
  },
  async run({ args }) {
    if (args.unset) writeMachine({ env: null });
    else if (args.env) writeMachine({ env: assertEnvName(args.env) });
    const env = readMachineEnv();
    const dev = env !== null && isDevEnv(env);
    if (args.json) return printJson({ env, dev });
    if (!args.env && !args.unset) return printLines([env ?? "(not set)"]);
    log.success(
      env
        ? `this machine's environment is ${env}${dev ? " (development: start leaves git alone)" : ""}`
        : "this machine's environment is cleared",
    );
  },
});
