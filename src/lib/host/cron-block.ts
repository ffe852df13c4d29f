import { shellQuote } from "../core/shell.ts";

/**
 * The marked block protocol owns in the user's crontab. Everything outside it is kept byte for
 * byte; inside, each app is a comment line naming its dir followed by its @reboot line.
 */
export const CRON_BEGIN = "# BEGIN protocol (managed by protocol cron:add / cron:remove)";
export const CRON_END = "# END protocol";
const APP_PREFIX = "# app: ";

export interface CronEntry {
  dir: string;
  line: string;
}

export interface ParsedCrontab {
  before: string[];
  entries: CronEntry[];
  after: string[];
}

export function parseCrontab(text: string): ParsedCrontab {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const begin = lines.indexOf(CRON_BEGIN);
  const end = begin === -1 ? -1 : lines.indexOf(CRON_END, begin);
  if (begin === -1 || end === -1) return { before: lines, entries: [], after: [] };
  const entries: CronEntry[] = [];
  const inner = lines.slice(begin + 1, end);
  for (let i = 0; i < inner.length; i++) {
    const current = inner[i] ?? "";
    const next = inner[i + 1];
    if (current.startsWith(APP_PREFIX) && next !== undefined) {
      entries.push({ dir: current.slice(APP_PREFIX.length), line: next });
      i++;
    }
  }
  return { before: lines.slice(0, begin), entries, after: lines.slice(end + 1) };
}

export function renderCrontab({ before, entries, after }: ParsedCrontab): string {
  const block =
    entries.length === 0 ? [] : [CRON_BEGIN, ...entries.flatMap((e) => [`${APP_PREFIX}${e.dir}`, e.line]), CRON_END];
  const lines = [...before, ...block, ...after];
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** Add or replace the app's entry; adding the same entry twice gives the same crontab. */
export function withCronEntry(text: string, entry: CronEntry): string {
  const parsed = parseCrontab(text);
  const entries = parsed.entries.filter((e) => e.dir !== entry.dir);
  entries.push(entry);
  entries.sort((a, b) => a.dir.localeCompare(b.dir));
  return renderCrontab({ ...parsed, entries });
}

export function withoutCronEntry(text: string, dir: string): string {
  const parsed = parseCrontab(text);
  return renderCrontab({ ...parsed, entries: parsed.entries.filter((e) => e.dir !== dir) });
}

/** Quote for the shell cron runs the line with; `%` means newline to cron, so it is escaped. */
export function cronQuote(word: string): string {
  return shellQuote(word).replaceAll("%", "\\%");
}

/**
 * `@reboot PATH=… '<protocol>' restart '<dir>' >> '<log>' 2>&1`. cron's PATH is minimal, so the
 * PATH protocol was started with goes into the line, and PROTOCOL_HOME when it is set.
 */
export function renderRebootLine(
  argv: string[],
  dir: string,
  logPath: string,
  env: { PATH?: string; PROTOCOL_HOME?: string },
): string {
  const vars = [
    env.PATH ? `PATH=${cronQuote(env.PATH)}` : null,
    env.PROTOCOL_HOME ? `PROTOCOL_HOME=${cronQuote(env.PROTOCOL_HOME)}` : null,
  ].filter(Boolean);
  return ["@reboot", ...vars, ...argv.map(cronQuote), "restart", cronQuote(dir), ">>", cronQuote(logPath), "2>&1"].join(
    " ",
  );
}
