/**
 * The background loop's own entry. cli.ts sends `git:slave --foreground …` here: the command line
 * protocol writes for its loop (daemon.ts, the systemd unit) runs the loop without the dispatcher.
 * The loop lives for weeks and all it loads stays in its memory, and citty and the dispatcher are no
 * part of a pass (bench/memory.ts). A command line not read here exactly as the dispatcher reads it
 * (another flag, a flag twice, a bad value, --help) goes to main.ts, as every other command does.
 */
import { readInterval, readPolicies } from "./commands/_args.ts";
import { setVerbose } from "./lib/core/log.ts";
import { reportError } from "./lib/core/report-error.ts";
import { runSlaveInForeground, type SlaveOptions } from "./lib/node/slave.ts";

interface LoopCommandLine {
  dir: string | undefined;
  verbose: boolean;
  options: SlaveOptions;
}

const SWITCHES = new Set(["foreground", "verbose"]);
const VALUES = new Set(["dir", "interval", "on-dirty", "on-diverged"]);

/** `git:slave --foreground` with only --dir, --interval, --on-dirty, --on-diverged and --verbose, each once and valid; else null. */
export function readLoopCommandLine(argv: readonly string[]): LoopCommandLine | null {
  if (argv[0] !== "git:slave") return null;
  const switches = new Set<string>();
  const values = new Map<string, string>();
  for (let i = 1; i < argv.length; i++) {
    const [, name = "", inline] = /^--([a-z-]+)(?:=(.*))?$/s.exec(argv[i]!) ?? [];
    if (SWITCHES.has(name) && inline === undefined && !switches.has(name)) switches.add(name);
    else if (VALUES.has(name) && !values.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === "" || (inline === undefined && value.startsWith("-"))) return null;
      values.set(name, value);
    } else return null;
  }
  if (!switches.has("foreground")) return null;
  const args = Object.fromEntries(values);
  try {
    return {
      dir: values.get("dir"),
      verbose: switches.has("verbose"),
      options: { intervalSeconds: readInterval(args), ...readPolicies(args) },
    };
  } catch {
    return null;
  }
}

/** Run the loop (until SIGTERM), reporting an error as the dispatcher's boundary does; or hand the command line on. */
export async function runLoop(argv: string[]): Promise<void> {
  const line = readLoopCommandLine(argv);
  if (!line) return (await import("./main.ts")).runMain(argv);
  if (line.verbose) setVerbose(true);
  try {
    await runSlaveInForeground(line.dir, line.options);
  } catch (error) {
    process.exitCode = reportError(error);
  }
}
