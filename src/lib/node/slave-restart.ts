import { loadApp } from "../app/app.ts";
import { readSlave } from "../app/loops.ts";
import { listRegistrations } from "../app/state.ts";
import { errorMessage } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { startSlaveInBackground, stopLegacyConfigSlave, stopSlave } from "./daemon.ts";
import { setFollow } from "./follow.ts";
import { slaveFlags } from "./lifecycle.ts";
import { restartSupervised } from "./supervisor.ts";

/** The loop's pid once it is not `old` any more (systemd restarts it after its step), or null after 15 s. */
async function newPid(app: ReturnType<typeof loadApp>, old: number | null): Promise<number | null> {
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await Bun.sleep(50)) {
    const info = readSlave(app);
    if (info.running && info.pid && info.pid !== old) return info.pid;
  }
  return null;
}

export interface RestartedLoop {
  dir: string;
  /** Who runs the loop: cron's background loop, or a systemd unit. */
  supervisor: "cron" | "systemd";
  oldPid: number | null;
  pid: number | null;
  /** An older protocol's separate config loop, stopped: the app's loop follows the config repo now. */
  replacedConfigLoop: number | null;
  error: string | null;
}

/**
 * Restart every loop of this machine's registered apps, whichever supervisor runs it, so after
 * self:update (or its rollback) none keeps running a deleted binary. An older protocol's separate
 * config loop is stopped and its part handed to the app's loop. A loop that fails to come back is
 * reported, not thrown: the binary is already replaced.
 */
export async function restartSlaveLoops(): Promise<RestartedLoop[]> {
  const restarted: RestartedLoop[] = [];
  for (const registration of listRegistrations().filter((r) => r.enabled)) {
    let oldPid: number | null = null;
    const supervisor = registration.supervisor;
    let replacedConfigLoop: number | null = null;
    try {
      const app = loadApp(registration.dir);
      const legacy = await stopLegacyConfigSlave(app);
      if (legacy.pid) {
        replacedConfigLoop = legacy.pid;
        setFollow(app, { config: true });
      }
      const slave = readSlave(app);
      if (!slave.running && !legacy.pid) continue;
      oldPid = slave.pid;
      if (supervisor === "systemd") {
        // The units run the binary at its path: a restart runs the new one.
        await restartSupervised(app);
        restarted.push({
          dir: app.dir,
          supervisor,
          oldPid,
          pid: await newPid(app, oldPid),
          replacedConfigLoop,
          error: null,
        });
        continue;
      }
      if (slave.running) await stopSlave(app);
      const flags = slaveFlags({
        intervalSeconds: registration.interval,
        onDirty: registration.onDirty,
        onDiverged: registration.onDiverged,
      });
      const started = await startSlaveInBackground(app, flags);
      restarted.push({ dir: app.dir, supervisor, oldPid, pid: started.pid, replacedConfigLoop, error: null });
    } catch (error) {
      log.warn(
        `could not restart the slave loop of ${registration.dir}: ${errorMessage(error)} (run protocol restart ${registration.dir})`,
      );
      restarted.push({
        dir: registration.dir,
        supervisor,
        oldPid,
        pid: null,
        replacedConfigLoop,
        error: errorMessage(error),
      });
    }
  }
  return restarted;
}

/** One line for a person: which loop, who runs it, its pid before and after. */
export function describeRestart(loop: RestartedLoop): string {
  const by = loop.supervisor === "systemd" ? "systemd" : "cron (background loop)";
  const config = loop.replacedConfigLoop ? `; its old config loop (pid ${loop.replacedConfigLoop}) replaced by it` : "";
  if (loop.error) return `${loop.dir}: not restarted (${by}): ${loop.error}`;
  return `${loop.dir}: slave mode restarted by ${by}, pid ${loop.oldPid ?? "none"} → ${loop.pid ?? "?"}${config}`;
}
