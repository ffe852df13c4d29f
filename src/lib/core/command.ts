import { type ArgsDef, type CommandContext, type CommandDef, defineCommand } from "citty";
import { setVerbose } from "./log.ts";
import { reportError } from "./report-error.ts";

/**
 * Every command goes through here: one error boundary that turns a thrown error into two lines
 * and an exit code. It sets process.exitCode rather than exiting, so `finally` blocks still run.
 */
export function defineProtocolCommand<T extends ArgsDef>(def: CommandDef<T>): CommandDef<T> {
  const run = def.run;
  return defineCommand({
    ...def,
    args: { ...(def.args as T), verbose: { type: "boolean", description: "Show debug output" } } as T,
    async run(context: CommandContext<T>) {
      if (context.args.verbose) setVerbose(true);
      try {
        await run?.(context);
      } catch (error) {
        process.exitCode = reportError(error);
      }
    },
  });
}
