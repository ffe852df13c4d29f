import { type ArgsDef, type CommandContext, type CommandDef, defineCommand } from "citty";
import { CancelledError, EXIT, ProtocolError } from "./errors.ts";
import { setVerbose } from "./log.ts";
import { styles } from "./terminal.ts";
import { safeLine } from "./validate.ts";

const { red, dim } = styles;

/** The two lines every failure prints: what went wrong, and what to do about it. */
export function reportError(error: unknown): number {
  // A consola prompt asked with cancel: "reject" throws this when the person presses Ctrl-C.
  if (error instanceof CancelledError || (error as Error)?.name === "ConsolaPromptCancelledError") {
    console.error("cancelled");
    return EXIT.cancelled;
  }
  if (error instanceof ProtocolError) {
    console.error(`${red("error:")} ${safeLine(error.message)}`);
    if (error.hint) console.error(`${dim("hint:")}  ${safeLine(error.hint)}`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`${red("error:")} ${safeLine(message)}`);
  console.error(`${dim("hint:")}  this is a bug in protocol; rerun with --verbose and report it`);
  if (process.env.PROTOCOL_DEBUG || process.argv.includes("--verbose")) console.error((error as Error)?.stack ?? "");
  return EXIT.unexpected;
}

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
