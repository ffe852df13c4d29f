import { readdirSync, readFileSync } from "node:fs";

/**
 * Whether a pid is a live process. A zombie counts as dead: PID 1 in containers can take seconds
 * to reap a killed process, and its lock must be recoverable at once.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return !/^State:\s+[ZX]/m.test(status);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && process.platform === "linux") return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Wait until the pid is gone; true when it went within the time. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(50);
  }
  return true;
}

/**
 * When the process started, in clock ticks since boot (/proc/PID/stat field 22), or null where
 * unknown. With the boot id it tells a live holder from a new process that reuses its pid.
 */
export function processStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: count fields after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/** This boot's id (Linux), or null; a lock written before a reboot never belongs to a live process. */
export function bootId(): string | null {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return null;
  }
}

/** A live process's argv (Linux /proc), or null where unknown. */
export function processArgv(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
  } catch {
    return null;
  }
}

/** Whether argv runs protocol's `<command> --foreground --dir <dir>` loop. */
export function isLoopArgv(argv: readonly string[], command: string, dir?: string): boolean {
  if (!argv.includes(command) || !argv.includes("--foreground")) return false;
  return dir === undefined || argv[argv.indexOf("--dir") + 1] === dir;
}

/** Live protocol loops (`<command> --foreground --dir <dir>`) other than this process, found by their argv. */
export function findLoops(command: string, dir: string): number[] {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return pids
    .map(Number)
    .filter((pid) => pid !== process.pid && isProcessAlive(pid) && isLoopArgv(processArgv(pid) ?? [], command, dir));
}

/**
 * The process groups `pid` started (its children that lead a group of their own: what spawn.ts runs
 * with a limit). Killing `pid` does not reach them, and once it is gone nothing enforces their limits.
 */
export function childGroups(pid: number): number[] {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return pids.map(Number).filter((child) => {
    try {
      const stat = readFileSync(`/proc/${child}/stat`, "utf8");
      const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(ppid) === pid && Number(pgrp) === child;
    } catch {
      return false;
    }
  });
}
