import { commands } from "./commands/index.ts";
import { VERSION } from "./version.ts";

/**
 * The command named on the command line: the first registered name, so flags may come first
 * (protocol --dir /srv/app status), else the first word that is not a flag (a misspelt command).
 */
export function findCommandName(argv: string[]): string | undefined {
  return argv.find((arg) => Object.hasOwn(commands, arg)) ?? argv.find((arg) => !arg.startsWith("-"));
}

/** `protocol --help`: written from the registry alone, so it loads no command module and no library. */
export function renderRootUsage(): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((name) => name.length));
  const rows = Object.entries(commands).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.description}`);
  return [
    `Keep nodes in sync with their git remote and docker images (protocol v${VERSION})`,
    "",
    "USAGE protocol <command> [OPTIONS]",
    "",
    "COMMANDS",
    "",
    ...rows,
    "",
    "Run protocol <command> --help for a command's options, protocol --version for the version.",
    "",
  ].join("\n");
}
