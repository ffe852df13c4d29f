/**
 * Checks at the boundary for values that reach a crontab, an ssh config, user-data, a refspec or a
 * log line: a control character there can start a line of its own (a newline in a dir name becomes
 * a crontab entry).
 */
import { PreconditionError } from "./errors.ts";

export { safeLine } from "./safe-line.ts";

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

/** A remote URL without its user info (`https://user:token@host/x` → `https://host/x`); scp-like addresses unchanged. */
export function redactUrl(url: string): string {
  // Up to the last @ before the path: a password may itself hold an @.
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, (_, scheme: string) => scheme);
}

/**
 * Whether a remote URL carries a secret: a password (`user:secret@`), or for HTTP(S) any user
 * info at all (`https://<token>@host` is how tokens are pasted). git passes the URL to its
 * `git remote-http` child as argv, so it shows in ps, and .git/config keeps it. `ssh://git@host`
 * is only a user name.
 */
export function credentialInUrl(url: string): boolean {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)@/i.exec(url);
  if (!match) return false;
  const [, scheme = "", userinfo = ""] = match;
  return userinfo.includes(":") || /^https?$/i.test(scheme);
}
