import { renderUsage, runCommand } from "citty";
import type { AnyCommand, Dispatcher } from "./commands/_groups.ts";
import { commands } from "./commands/index.ts";
import { checkCommandLine } from "./lib/core/argv.ts";
import { UsageError } from "./lib/core/errors.ts";
import { printText } from "./lib/core/output.ts";
import { reportError } from "./lib/core/report-error.ts";
import { didYouMean, suggestCommands } from "./lib/core/suggest.ts";
import { findCommandName, groupCommands, renderCommandGroups, renderRootUsage } from "./usage.ts";
import { VERSION } from "./version.ts";

const root: AnyCommand = { meta: { name: "protocol", version: VERSION } };

/** The command named on the command line, loaded, with the registry's description; a misspelt one is a usage error. */
async function loadCommand(name: string): Promise<AnyCommand> {
  // Object.hasOwn: "toString" or "__proto__" are not commands, whatever Object.prototype says.
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    const suggestion = didYouMean(suggestCommands(name, Object.keys(commands)));
    throw new UsageError(
      `unknown command ${JSON.stringify(name)}`,
      suggestion ? `${suggestion} (protocol --help lists the commands)` : "run protocol --help to see the commands",
    );
  }
  const command = (await entry.load()).default;
  return { ...command, meta: { ...(command.meta as object), description: entry.description } };
}

/** Usage goes straight to stdout: citty's showUsage logs through consola, which is silent under NODE_ENV=test. */
async function printUsage(command?: AnyCommand): Promise<void> {
  if (!command) return printText(renderRootUsage());
  // renderUsage marks code with backticks for consola to colour; plain text reads better.
  const usage = (await renderUsage(command, root)).replaceAll("`", "");
  const name = (command.meta as { name?: string } | undefined)?.name ?? "";
  const example = Object.hasOwn(commands, name) ? commands[name]?.example : undefined;
  printText(example ? `${usage.trimEnd()}\n\nEXAMPLE\n\n  ${example}\n` : usage);
}

const dispatcher: Dispatcher = { groupCommands, renderCommandGroups, loadCommand, printUsage };

/**
 * citty's runMain exits 1 for every error and prints a usage dump for a bad flag; protocol wants
 * its exit-code table and two-line errors, so this is the small main that does both. cli.ts has
 * already answered --version and the root usage. Before citty parses anything, the command line is
 * checked against the command's own flags (lib/core/argv.ts): citty alone accepts unknown flags,
 * extra words, and reads `--limit -3` as an empty --limit plus a flag -3.
 */
export async function runMain(rawArgs: string[]): Promise<void> {
  try {
    const name = findCommandName(rawArgs);
    if (!name) return await printUsage();
    const command = await loadCommand(name);
    const at = rawArgs.indexOf(name);
    const words = [...rawArgs.slice(0, at), ...rawArgs.slice(at + 1)];
    // Words after `--` belong to the command (protocol exec -- php -h), not to protocol.
    const own = words.includes("--") ? words.slice(0, words.indexOf("--")) : words;
    if (own.includes("--help") || own.includes("-h")) return await printUsage(command);
    const args = typeof command.args === "function" ? await command.args() : await command.args;
    await runCommand(command, { rawArgs: checkCommandLine(name, args ?? {}, words), data: dispatcher });
  } catch (error) {
    // checkCommandLine refuses what citty would; a CLIError of citty's that still gets through is a usage error too.
    const usage = (error as { name?: string }).name === "CLIError";
    process.exitCode = reportError(
      usage ? new UsageError((error as Error).message, "see protocol help <command>") : error,
    );
  }
}
