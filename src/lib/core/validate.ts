/**
 * Checks at the boundary for values that reach a crontab, an ssh config, user-data, a refspec or a
 * log line: a control character there can start a line of its own (a newline in a dir name becomes
 * a crontab entry).
 */
import { PreconditionError } from "./errors.ts";

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is looked for.
const CONTROL = /[\u0000-\u001f\u007f]/;

export function hasControlChars(value: string): boolean {
  return CONTROL.test(value);
}

/** Throws a one-line error naming the value (escaped, so the error itself stays one line). */
export function assertNoControlChars(value: string, what: string, hint = "rename it, or pass another"): string {
  if (hasControlChars(value)) {
    throw new PreconditionError(
      `${what} ${JSON.stringify(value)} contains a control character (newline, CR, tab, NUL…)`,
      hint,
    );
  }
  return value;
}

/** A URL as logs may show it: scheme and host only (paths and queries often carry tokens). */
export function redactUrlPath(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/…`;
  } catch {
    return "<url>";
  }
}
