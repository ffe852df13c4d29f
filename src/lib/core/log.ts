import { format } from "node:util";
import { type ConsolaReporter, createConsola } from "consola";

const interactive = Boolean(process.stderr.isTTY);

/** Off a TTY (the slave loop's log file, cron, CI): one line per message with an ISO timestamp. */
const lineReporter: ConsolaReporter = {
  log(entry) {
    process.stderr.write(`${entry.date.toISOString()} ${entry.type.padEnd(7)} ${format(...entry.args)}\n`);
  },
};

/**
 * The one consola instance. It writes to stderr so that stdout stays for data (`--json`, tables).
 * PROTOCOL_LOG_LEVEL or --verbose raise the level.
 */
export const log = createConsola({
  level: Number(process.env.PROTOCOL_LOG_LEVEL ?? 3),
  stdout: process.stderr,
  stderr: process.stderr,
  fancy: interactive,
  formatOptions: { colors: interactive && !process.env.NO_COLOR, compact: true },
  ...(interactive ? {} : { reporters: [lineReporter] }),
});

export function setVerbose(on: boolean): void {
  if (on) log.level = 4;
}
