import { renderUsage, runCommand } from "citty";
import { type AnyCommand, commands } from "./commands/index.ts";
import { reportError } from "./lib/core/command.ts";
import { UsageError } from "./lib/core/errors.ts";
import { printText } from "./lib/core/output.ts";
import { findCommandName, renderRootUsage } from "./usage.ts";
import { VERSION } from "./version.ts";

const root: AnyCommand = { meta: { name: "protocol", version: VERSION } };

/**
 * What `help` and `list` need from the dispatcher, passed to every command as citty's context
 * `data`: the commands cannot import the registry or this file without an import cycle.
 */
export interface Dispatcher {
  commands: typeof commands;
  loadCommand(name: string): Promise<AnyCommand>;
  printUsage(command?: AnyCommand): Promise<void>;
}

/** The command named on the command line, loaded, with the registry's description; a misspelt one is a usage error. */
async function loadCommand(name: string): Promise<AnyCommand> {
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) throw new UsageError(`unknown command ${JSON.stringify(name)}`, "run protocol list to see the commands");
  const command = (await entry.load()).default;
  return { ...command, meta: { ...(command.meta as object), description: entry.description } };
}

/** Usage goes straight to stdout: citty's showUsage logs through consola, which is silent under NODE_ENV=test. */
async function printUsage(command?: AnyCommand): Promise<void> {
  if (!command) return printText(renderRootUsage());
  // renderUsage marks code with backticks for consola to colour; plain text reads better.
  printText((await renderUsage(command, root)).replaceAll("`", ""));
}

const dispatcher: Dispatcher = { commands, loadCommand, printUsage };

/**
 * citty's runMain exits 1 for every error and prints a usage dump for a bad flag; protocol wants
 * its exit-code table and two-line errors, so this is the small main that does both. cli.ts has
 * already answered --version and the root usage.
 */
export async function runMain(rawArgs: string[]): Promise<void> {
  try {
    const name = findCommandName(rawArgs);
    if (!name) return await printUsage();
    const command = await loadCommand(name);
    // Words after `--` belong to the command (protocol exec -- php -h), not to protocol.
    const own = rawArgs.includes("--") ? rawArgs.slice(0, rawArgs.indexOf("--")) : rawArgs;
    if (own.includes("--help") || own.includes("-h")) return await printUsage(command);
    const at = rawArgs.indexOf(name);
    await runCommand(command, { rawArgs: [...rawArgs.slice(0, at), ...rawArgs.slice(at + 1)], data: dispatcher });
  } catch (error) {
    // citty throws its own CLIError for a missing positional or a bad flag: a usage error.
    const usage = (error as { name?: string }).name === "CLIError";
    process.exitCode = reportError(
      usage ? new UsageError((error as Error).message, "see protocol help <command>") : error,
    );
  }
}
