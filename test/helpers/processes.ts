import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { eventually } from "./fixture.ts";

/** Pids of git processes working inside `dir` whose argv holds any of `words` (never another test's git). */
export function gitProcessesIn(dir: string, words: string[]): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
      const argv = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      if (/(^|\/)git(-[\w-]+)?$/.test(argv[0] ?? "") && words.some((word) => argv.includes(word)))
        found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Wait until a pid has exited: PID 1 here reaps slowly, so a zombie counts as gone. */
export function gone(pid: number, timeoutMs = 5_000): Promise<boolean> {
  return eventually(() => {
    try {
      return readFileSync(`/proc/${pid}/status`, "utf8").includes("State:\tZ");
    } catch {
      return true;
    }
  }, timeoutMs);
}

/** Pids of live processes (a zombie counts as gone) whose argv is exactly `argv`: a marker no other test uses, as `sleep 1020.5`. */
export function processesWithArgv(argv: string[]): number[] {
  const cmdline = `${argv.join("\0")}\0`;
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        if (readFileSync(`/proc/${pid}/status`, "utf8").includes("State:\tZ")) return false;
        return readFileSync(`/proc/${pid}/cmdline`, "utf8") === cmdline;
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** SIGKILL every live process whose argv is exactly `argv` (a test's leftovers). */
export function killProcessesWithArgv(argv: string[]): void {
  for (const pid of processesWithArgv(argv)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}
