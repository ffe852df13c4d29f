/** Small file systems that fill up for real: a tmpfs mounted for a test (needs root; CI runs as root). */
import { expect } from "bun:test";
import { mkdirSync } from "node:fs";
import { sh } from "./fixture.ts";

/** Why tmpfs tests cannot run here, for describeNeeding / testNeeding; null as root. */
export const TMPFS_NEEDS = process.getuid?.() === 0 ? null : "mounting a tmpfs needs root";

const mounts: string[] = [];

/** Mount a tmpfs of `size` (mount's syntax: "6m", "256k") at `dir`, made if missing. */
export async function mountTmpfs(dir: string, size: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const mounted = await sh(["mount", "-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  expect(mounted.stderr).toBe("");
  mounts.push(dir);
  return dir;
}

/** Unmount every tmpfs mountTmpfs made (lazily: a process may still hold a file there). */
export async function unmountTmpfs(): Promise<void> {
  for (const dir of mounts.splice(0)) await sh(["umount", "-l", dir]);
}
