/**
 * One safe line out of any text, in a module of its own with no imports: output.ts uses it for
 * every table cell, and output.ts loads before `--version` answers.
 */

// The C1 range too: a terminal may read \u009b as CSI, the start of an escape sequence.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is replaced.
const CONTROL_ALL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/]*@/gi;

/**
 * A message made safe for one line of a log or an error: the user info of any URL in it removed
 * (`https://user:token@host` → `https://host`), control characters shown escaped (`\n`, `\u001b`),
 * so a hostile value can neither start a line of its own nor drive the terminal. Tabs stay.
 */
export function safeLine(text: string): string {
  return text
    .replace(URL_USERINFO, "$1")
    .replace(CONTROL_ALL, (c) =>
      c === "\n" ? "\\n" : c === "\r" ? "\\r" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
}
