import { rmSync } from "node:fs";
import { log } from "./log.ts";

/** The signals that end a command from outside (Ctrl-C, a supervisor's stop, a closed terminal), with the shell's exit code for each. */
const ENDING_SIGNALS = [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
] as const;

/**
 * Run `work`; when a signal ends the process meanwhile, remove `paths` first and exit with the
 * signal's code. Without this Bun dies at once on the signal and `finally` never runs: a download
 * cut short by Ctrl-C or a supervisor's timeout would stay on the disk.
 */
export async function removingOnSignal<T>(paths: string[], work: () => Promise<T>): Promise<T> {
  const handlers = ENDING_SIGNALS.map(([signal, code]) => {
    const handler = () => {
      for (const path of paths) rmSync(path, { force: true });
      log.warn(`${signal}: stopped; removed ${paths.join(" and ")}`);
      process.exit(code);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  try {
    return await work();
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}
