import * as v from "valibot";
import { readTextOrNull } from "./fs.ts";

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
    text = readTextOrNull(path);
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
