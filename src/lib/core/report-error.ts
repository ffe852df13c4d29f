/**
 * What the error boundary prints. Apart from command.ts, which loads citty: the background loop's
 * own entry (src/loop.ts) reports its errors as every command does without loading it.
 */
import { CancelledError, EXIT, ProtocolError } from "./errors.ts";
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
