import { join } from "node:path";
import { isCompiled } from "../../version.ts";

/** The argv that runs this same protocol again: the compiled binary, or bun with the source entry. */
export function selfArgv(): string[] {
  // __dirname, not import.meta: the compiled binary is bytecode, which is not a module.
  return isCompiled() ? [process.execPath] : [process.execPath, join(__dirname, "..", "..", "cli.ts")];
}
