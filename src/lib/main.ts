import { defineCommand, renderUsage, runCommand, type CommandDef } from "citty";
import { commands } from "../commands/index.ts";
import { VERSION } from "../version.ts";
import { reportError } from "./command.ts";
import { UsageError } from "./errors.ts";

export const root = defineCommand({
  meta: { name: "protocol", version: VERSION, description: "Keep nodes in sync with their git remote and docker images" },
  subCommands: commands,
});

/** The command named on the command line, loaded; a misspelt one is a usage error. */
export async function loadCommand(name: string): Promise<CommandDef<any>> {
  const loader = commands[name];
  if (!loader) throw new UsageError(`unknown command ${JSON.stringify(name)}`, "run protocol list to see the commands");
  return loader();
}

/** Usage goes straight to stdout: citty's showUsage logs through consola, which is silent under NODE_ENV=test. */
export async function printUsage(command: CommandDef<any>, parent?: CommandDef<any>): Promise<void> {
  // renderUsage marks code with backticks for consola to colour; plain text reads better.
  process.stdout.write(`${(await renderUsage(command, parent)).replaceAll("`", "")}\n`);
}

/**
 * citty's runMain exits 1 for every error and prints a usage dump for a bad flag; protocol wants
 * its exit-code table and two-line errors, so this is the small main that does both.
 */
export async function runMain(rawArgs = process.argv.slice(2)): Promise<void> {
  try {
    // The command is the first registered name, so flags may come first: protocol --dir /srv/app status.
    const name = rawArgs.find((arg) => arg in commands) ?? rawArgs.find((arg) => !arg.startsWith("-"));
    if (rawArgs[0] === "--version" || rawArgs[0] === "-v") {
      process.stdout.write(`${VERSION}\n`);
      return;
    }
    if (!name) {
      await printUsage(root);
      if (!rawArgs.includes("--help") && !rawArgs.includes("-h")) process.exitCode = 2;
      return;
    }
    const command = await loadCommand(name);
    // Words after `--` belong to the command (protocol exec -- php -h), not to protocol.
    const own = rawArgs.includes("--") ? rawArgs.slice(0, rawArgs.indexOf("--")) : rawArgs;
    if (own.includes("--help") || own.includes("-h")) {
      await printUsage(command, root);
      return;
    }
    const at = rawArgs.indexOf(name);
    await runCommand(command, { rawArgs: [...rawArgs.slice(0, at), ...rawArgs.slice(at + 1)] });
  } catch (error) {
    // citty throws its own CLIError for a missing positional or a bad flag: a usage error.
    process.exitCode = (error as { name?: string }).name === "CLIError" ? reportError(new UsageError((error as Error).message, "see protocol help <command>")) : reportError(error);
  }
}
