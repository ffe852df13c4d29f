import { chmodSync, copyFileSync, mkdirSync, realpathSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { isCompiled } from "../../version.ts";
import { PreconditionError } from "../core/errors.ts";
import { sha256File } from "./checksum.ts";
import { assertWritableDir } from "./self-binary.ts";

/** install.sh's rule: /usr/local/bin as root, ~/.local/bin otherwise; PROTOCOL_INSTALL_DIR or --dir win. */
export function defaultInstallDir(
  env: Record<string, string | undefined> = process.env,
  uid = process.getuid?.() ?? -1,
): string {
  if (env.PROTOCOL_INSTALL_DIR) return env.PROTOCOL_INSTALL_DIR;
  return uid === 0 ? "/usr/local/bin" : join(env.HOME || homedir(), ".local", "bin");
}

export function isOnPath(dir: string, path = process.env.PATH ?? ""): boolean {
  const wanted = resolve(dir);
  return path.split(delimiter).some((entry) => entry !== "" && resolve(entry) === wanted);
}

export interface GlobalInstall {
  path: string;
  source: string;
  mode: "copy" | "link";
  changed: boolean;
  onPath: boolean;
}

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/** Copy (or symlink) the running binary to `<dir>/protocol`; running it twice changes nothing. */
export async function installGlobal(options: { dir?: string; link?: boolean }): Promise<GlobalInstall> {
  if (!isCompiled()) {
    throw new PreconditionError(
      "self:global puts the compiled binary on PATH, and this is running from source",
      "build it first (npm run build), then run dist/protocol self:global",
    );
  }
  const source = realpathSync(process.execPath);
  const dir = resolve(options.dir || defaultInstallDir());
  const path = join(dir, "protocol");
  const mode = options.link ? "link" : "copy";
  const result = { path, source, mode, onPath: isOnPath(dir) } as const;
  mkdirSync(dir, { recursive: true });
  assertWritableDir(dir);
  const current = realpathOrNull(path);
  if (current === source) return { ...result, changed: false };
  if (mode === "copy" && current && (await sha256File(current)) === (await sha256File(source)))
    return { ...result, changed: false };
  // Built beside the target and renamed over it: a running protocol at `path` keeps its inode.
  const staged = join(dir, `.protocol.${process.pid}.tmp`);
  rmSync(staged, { force: true });
  if (mode === "link") symlinkSync(source, staged);
  else {
    copyFileSync(source, staged);
    chmodSync(staged, 0o755);
  }
  renameSync(staged, path);
  return { ...result, changed: true };
}
