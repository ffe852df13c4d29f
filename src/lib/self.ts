import { join } from "node:path";
import { isCompiled } from "../version.ts";

/** The argv that runs this same protocol again: the compiled binary, or bun with the source entry. */
export function selfArgv(): string[] {
  return isCompiled() ? [process.execPath] : [process.execPath, join(import.meta.dir, "..", "cli.ts")];
}
