import { accessSync, constants, copyFileSync, existsSync, linkSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isCompiled } from "../../version.ts";
import { PreconditionError, StepFailedError } from "../core/errors.ts";
import { run } from "../core/spawn.ts";

/** A distro package drops this beside the binary: its package manager owns updates, not protocol. */
export const DISABLE_MARKER = ".disable-self-update";

export interface SelfBinary {
  path: string;
  dir: string;
  backup: string;
}

/** The running compiled binary, where self:update may replace it; refuses from source or a packaged install. */
export function locateSelfBinary(action = "self:update"): SelfBinary {
  if (!isCompiled()) {
    throw new PreconditionError(
      `${action} replaces the compiled protocol binary, and this is running from source (${process.execPath})`,
      "update a source checkout with git pull && npm install; install a release with install.sh",
    );
  }
  const path = process.execPath;
  const dir = dirname(path);
  if (existsSync(join(dir, DISABLE_MARKER))) {
    throw new PreconditionError(
      `${action} is disabled for ${path}: ${join(dir, DISABLE_MARKER)} exists`,
      "this binary is managed by a package manager; update it with that",
    );
  }
  return { path, dir, backup: join(dir, `${basename(path)}.bak`) };
}

export function assertWritableDir(dir: string): void {
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new PreconditionError(`cannot write to ${dir}`, "run it as the user that owns the binary (e.g. with sudo)");
  }
}

/** Run `<binary> --version` and return what it prints; a binary that cannot say its version is broken. */
export async function probeVersion(path: string): Promise<string> {
  const result = await run([path, "--version"], { idleTimeoutMs: 30_000 }).catch(() => null);
  const version = result?.ok ? result.stdout.trim() : "";
  if (!version) {
    const why = result
      ? `exit ${result.exitCode}${result.stderr ? `: ${result.stderr.trim().split("\n")[0]}` : ""}`
      : "it could not be started";
    throw new StepFailedError(`${path} --version failed (${why})`, `nothing was changed; the file is kept at ${path}`);
  }
  return version;
}

/** A second name for the binary's inode (no copy, no window without a file); a copy where links fail. */
function keepAs(from: string, to: string): void {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/**
 * Put `staged` in place of the binary, keeping the current one as `.bak`. The binary's path holds a
 * working file at every moment: the old inode keeps running (never written: ETXTBSY), rename is atomic.
 */
export function replaceBinary(self: SelfBinary, staged: string): void {
  keepAs(self.path, self.backup);
  renameSync(staged, self.path);
}

/** Swap the binary and its `.bak`, so a second rollback goes forward again. */
export function swapWithBackup(self: SelfBinary): void {
  const hold = join(self.dir, `.${basename(self.path)}.rollback-${process.pid}`);
  keepAs(self.path, hold);
  renameSync(self.backup, self.path);
  renameSync(hold, self.backup);
}
