import { errorMessage } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { loadApp } from "../app/app.ts";
import { readSlave, startSlaveInBackground, stopSlave } from "./daemon.ts";
import { slaveFlags } from "./lifecycle.ts";
import { listRegistrations } from "../app/state.ts";
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
  oldPid: number | null;
  pid: number | null;
  error: string | null;
}

/**
 * Restart every running slave loop of this machine, so after self:update they run the new binary.
 * A loop that fails to come back is reported, not thrown: the binary is already replaced.
 */
export async function restartSlaveLoops(): Promise<RestartedLoop[]> {
  const restarted: RestartedLoop[] = [];
  for (const registration of listRegistrations().filter((r) => r.enabled)) {
    let oldPid: number | null = null;
    try {
      const app = loadApp(registration.dir);
      const slave = readSlave(app);
      if (!slave.running) continue;
      oldPid = slave.pid;
      if (registration.supervisor === "systemd") {
        // The units run the binary at its path: a restart runs the new one.
        await restartSupervised(app);
        restarted.push({ dir: app.dir, oldPid, pid: await newPid(app, oldPid), error: null });
        continue;
      }
      await stopSlave(app);
      const flags = slaveFlags({
        intervalSeconds: registration.interval,
        onDirty: registration.onDirty,
        onDiverged: registration.onDiverged,
      });
      const started = await startSlaveInBackground(app, flags);
      restarted.push({ dir: app.dir, oldPid, pid: started.pid, error: null });
    } catch (error) {
      log.warn(
        `could not restart the slave loop of ${registration.dir}: ${errorMessage(error)} (run protocol restart ${registration.dir})`,
      );
      restarted.push({ dir: registration.dir, oldPid, pid: null, error: errorMessage(error) });
    }
  }
  return restarted;
}
