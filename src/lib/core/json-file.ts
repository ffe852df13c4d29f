import { statSync } from "node:fs";
import * as v from "valibot";
import { readTextOrNull } from "./fs.ts";

export const MAX_JSON_FILE_BYTES = 16 * 1024 * 1024;

/**
 * A JSON file protocol keeps or reads (state, locks, machine settings, docker's own files): its
 * value when it exists and passes `schema`, `fallback` otherwise. A missing file is normal; an
 * unreadable or invalid one calls `onInvalid` (say, to warn that it will be rewritten).
 */
export function readJsonFile<T>(
  path: string,
  schema: v.GenericSchema<unknown, T>,
  fallback: T,
  onInvalid?: (path: string) => void,
): T {
  let text: string | null;
  try {
    // Far bigger than any file protocol writes: such a file is not one of ours, and is not read.
    text = (statSync(path, { throwIfNoEntry: false })?.size ?? 0) > MAX_JSON_FILE_BYTES ? "" : readTextOrNull(path);
  } catch {
    text = "";
  }
  if (text === null) return fallback;
  try {
    const parsed = v.safeParse(schema, JSON.parse(text));
    if (parsed.success) return parsed.output;
  } catch {
    // not JSON: the same as invalid
  }
  onInvalid?.(path);
  return fallback;
}
