/**
 * stdout is for data: one JSON document with --json, plain lines otherwise. Written with
 * console.log, which Bun writes natively: touching process.stdout builds a Node stream first
 * (~10 ms of start-up, measured in bench/startup.ts).
 */
import { safeLine } from "./safe-line.ts";

export function printJson(value: unknown): void {
  console.log(renderJson(value));
}

/**
 * One JSON document, with DEL and the C1 controls escaped too (JSON.stringify leaves them raw, and
 * a terminal may read \u009b as the start of an escape sequence): still the same JSON. Pure.
 */
export function renderJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export function printLines(lines: string[]): void {
  if (lines.length > 0) console.log(lines.join("\n"));
}

/** Text that is already whole (usage, a public key, user-data): printed as it is, ending in one newline. */
export function printText(text: string): void {
  console.log(text.endsWith("\n") ? text.slice(0, -1) : text);
}

/**
 * Left-aligned columns, two spaces apart. Every cell is made one safe line first: cells show what
 * others wrote (a node's record, a container's status), and an escape sequence or a CR in one
 * could forge a row or drive the terminal.
 */
export function renderTable(cells: string[][]): string[] {
  const rows = cells.map((row) => row.map(safeLine));
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 8) : "-";
}

/** Titled groups of rows, a blank line between groups and the columns aligned across all of them. */
export function renderGroups(groups: { title: string; rows: string[][] }[]): string[] {
  const table = renderTable(groups.flatMap((group) => group.rows));
  let at = 0;
  return groups.flatMap((group, index) => {
    const lines = table.slice(at, at + group.rows.length).map((line) => `  ${line}`);
    at += group.rows.length;
    return [...(index > 0 ? [""] : []), group.title, ...lines];
  });
}

/** Seconds as a person reads them: "42s", "5m04s", "3h12m". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
