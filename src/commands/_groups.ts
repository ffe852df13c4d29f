/** The command registry's types, and the groups of `protocol --help` and `list` (the registry is index.ts). */
import type { CommandDef } from "citty";

// biome-ignore lint/suspicious/noExplicitAny: each command has its own args type; the registry holds them all.
export type AnyCommand = CommandDef<any>;

/** The groups of `protocol --help` and `list`, in the order they are shown. */
export const GROUPS = {
  node: "Node lifecycle",
  status: "Status and logs",
  git: "Git slave mode",
  deploys: "Deploys",
  fleet: "Fleet rollouts",
  config: "Config repo",
  docker: "Docker",
  host: "Host setup",
  self: "protocol itself",
} as const;

/** One command: what `protocol --help` and `list` say about it, and its module, loaded only when it runs. */
export interface CommandEntry {
  group: keyof typeof GROUPS;
  description: string;
  /** One command line, shown under the command's --help (checked against its flags by a test). */
  example: string;
  load: () => Promise<{ default: AnyCommand }>;
}

export interface CommandGroup {
  title: string;
  commands: { name: string; description: string }[];
}

/**
 * What main.ts hands `list` and `help` as citty's `data`: they cannot import main.ts or the
 * registry without an import cycle, so they get the dispatcher's functions instead.
 */
export interface Dispatcher {
  groupCommands(): CommandGroup[];
  renderCommandGroups(groups?: CommandGroup[]): string[];
  loadCommand(name: string): Promise<AnyCommand>;
  printUsage(command?: AnyCommand): Promise<void>;
}
