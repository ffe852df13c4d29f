import { type ConsolaReporter, createConsola, type LogObject } from "consola/core";
import { cutLine } from "./bounded.ts";
import { logWritten } from "./log-rotation.ts";
import { isTerminal, styles } from "./terminal.ts";
import { safeLine } from "./validate.ts";

// consola/core, not consola: the full package probes process.stdout when it loads (~10 ms of start-up).
const interactive = isTerminal(2);

/** A log line is cut after this many characters (a hook's line is cut at 4 KB before it gets here). */
export const LOG_LINE_MAX_CHARS = 8 * 1024;

/**
 * The message's words, as one safe line (no URL credentials, no raw control characters). Not
 * node:util's format, which costs the background loop ~5 MB of memory to load.
 */
function format(...args: unknown[]): string {
  return safeLine(
    cutLine(
      args
        .map((arg) => (typeof arg === "string" ? arg : arg instanceof Error ? arg.message : JSON.stringify(arg)))
        .join(" "),
      LOG_LINE_MAX_CHARS,
    ),
  );
}

const SYMBOLS: Record<string, (text: string) => string> = {
  success: (text) => `${styles.green("✔")} ${text}`,
  info: (text) => `${styles.cyan("ℹ")} ${text}`,
  warn: (text) => `${styles.yellow("⚠")} ${text}`,
  error: (text) => `${styles.red("✖")} ${text}`,
  debug: (text) => styles.dim(`⚙ ${text}`),
};

/** A message as a person at a terminal reads it: a symbol, then the text. */
export function renderTerminalLine(entry: Pick<LogObject, "type" | "args">): string {
  const text = format(...entry.args);
  return (SYMBOLS[entry.type] ?? ((line: string) => line))(text);
}

/** Off a TTY (the slave loop's log file, cron, CI): one line per message with an ISO timestamp. */
export function renderLogLine(entry: Pick<LogObject, "date" | "type" | "args">): string {
  return `${entry.date.toISOString()} ${entry.type.padEnd(7)} ${format(...entry.args)}`;
}

const reporter: ConsolaReporter = {
  log(entry) {
    const line = interactive ? renderTerminalLine(entry) : renderLogLine(entry);
    console.error(line);
    logWritten(line.length + 1);
  },
};

/**
 * The one consola instance. It writes to stderr so that stdout stays for data (`--json`, tables).
 * PROTOCOL_LOG_LEVEL or --verbose raise the level.
 */
export const log = createConsola({ level: Number(process.env.PROTOCOL_LOG_LEVEL ?? 3), reporters: [reporter] });

export function setVerbose(on: boolean): void {
  if (on) log.level = 4;
}
