import { join } from "node:path";
import { backupText } from "../core/backup.ts";
import { stateHome } from "../core/paths.ts";
import { run, stepFailure } from "../core/spawn.ts";
import { assertNoControlChars } from "../core/validate.ts";
import { selfArgv } from "../release/self.ts";
import { renderRebootLine, withCronEntry, withoutCronEntry } from "./cron-block.ts";

const KEEP_BACKUPS = 10;

/** The user's crontab; "" when there is none (`crontab -l` exits 1 with nothing on stdout). */
export async function readCrontab(): Promise<string> {
  const result = await run(["crontab", "-l"]);
  if (result.ok) return result.stdout;
  if (result.exitCode === 1 && result.stdout === "") return "";
  throw stepFailure("crontab -l", result);
}

/** Save the current crontab in the state dir before replacing it; keeps the last 10. */
function backupCrontab(text: string): string {
  return backupText(join(stateHome(), "crontab-backups"), "crontab", text, KEEP_BACKUPS);
}

export interface CrontabChange {
  changed: boolean;
  backup: string | null;
  line: string | null;
}

async function editCrontab(edit: (text: string) => string): Promise<{ changed: boolean; backup: string | null }> {
  const current = await readCrontab();
  const next = edit(current);
  if (next === current) return { changed: false, backup: null };
  const backup = backupCrontab(current);
  const result = await run(["crontab", "-"], { input: next });
  if (!result.ok) throw stepFailure("crontab -", result, `the previous crontab is in ${backup}`);
  return { changed: true, backup };
}

export function rebootLine(dir: string): string {
  // One line per entry: a newline in any of these would add a crontab line of its own.
  assertNoControlChars(dir, "the app dir", "rename the directory; cron cannot run protocol from it");
  for (const value of [...selfArgv(), stateHome(), process.env.PATH ?? "", process.env.PROTOCOL_HOME ?? ""])
    assertNoControlChars(
      value,
      "a path for the @reboot line",
      "set PATH, PROTOCOL_HOME and the install dir without control characters",
    );
  return renderRebootLine(selfArgv(), dir, join(stateHome(), "restart.log"), {
    PATH: process.env.PATH,
    PROTOCOL_HOME: process.env.PROTOCOL_HOME,
  });
}

export async function addRebootEntry(dir: string): Promise<CrontabChange> {
  const line = rebootLine(dir);
  return { ...(await editCrontab((text) => withCronEntry(text, { dir, line }))), line };
}

export async function removeRebootEntry(dir: string): Promise<CrontabChange> {
  return { ...(await editCrontab((text) => withoutCronEntry(text, dir))), line: null };
}
