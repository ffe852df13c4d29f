import { type CommandGroup, GROUPS } from "./commands/_groups.ts";
import { commands } from "./commands/index.ts";
import { renderGroups } from "./lib/core/output.ts";
import { VERSION } from "./version.ts";

/**
 * The command named on the command line: the first registered name before `--`, so flags may come
 * first (protocol --dir /srv/app status); else the word that is most likely a misspelt command
 * (not the value of a flag before it: protocol --dir /srv/app stauts), for the error to name.
 * Undefined when there is none: `protocol --dir /srv/app` gets the root usage, not "unknown command".
 */
export function findCommandName(argv: string[]): string | undefined {
  const own = argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;
  // After a flag, only a word shaped like a command counts (protocol --json strat); a path is a value.
  const words = own.filter((arg) => /^[a-z][\w:-]*$/i.test(arg));
  const afterFlag = (at: number) => at > 0 && /^--[^=]+$/.test(own[at - 1] ?? "");
  return (
    own.find((arg) => Object.hasOwn(commands, arg)) ??
    own.find((arg, at) => !arg.startsWith("-") && !afterFlag(at)) ??
    words[0]
  );
}

/** The registry by group, in GROUPS order: what `protocol --help` and `list` show. */
export function groupCommands(): CommandGroup[] {
  return Object.entries(GROUPS).map(([key, title]) => ({
    title,
    commands: Object.entries(commands)
      .filter(([, entry]) => entry.group === key)
      .map(([name, entry]) => ({ name, description: entry.description })),
  }));
}

/** The grouped command table, as `protocol --help` and `list` print it. */
export function renderCommandGroups(groups = groupCommands()): string[] {
  return renderGroups(
    groups.map((group) => ({ title: group.title, rows: group.commands.map((c) => [c.name, c.description]) })),
  );
}

/** `protocol --help`: written from the registry alone, so it loads no command module and no library. */
export function renderRootUsage(): string {
  return [
    `Keep nodes in sync with their git remote and docker images (protocol v${VERSION})`,
    "",
    "USAGE protocol <command> [OPTIONS]",
    "",
    "COMMANDS",
    "",
    ...renderCommandGroups(),
    "",
    "Run protocol <command> --help for a command's options, protocol --version for the version.",
    "Unknown flags, extra arguments and bad values are refused (exit 2); words after -- belong to the command.",
    "",
  ].join("\n");
}
