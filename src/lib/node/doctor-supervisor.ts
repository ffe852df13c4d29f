/** doctor's check of what brings the node back: cron's @reboot line, or systemd's units. */

import type { App } from "../app/app.ts";
import { errorMessage, MissingProgramError } from "../core/errors.ts";
import { parseCrontab } from "../host/cron-block.ts";
import { readCrontab } from "../host/crontab.ts";
import type { Check } from "../host/doctor.ts";
import { readSupervisor, recordedSupervisor } from "./supervisor.ts";

export async function checkCrontab(app: App): Promise<Check> {
  const name = "crontab";
  if (recordedSupervisor(app) === "systemd") return checkSystemdUnits(app);
  try {
    const entries = parseCrontab(await readCrontab()).entries;
    if (entries.some((entry) => entry.dir === app.dir))
      return { name, ok: true, detail: "the @reboot line for this app is there" };
    return {
      name,
      ok: false,
      detail: "no @reboot line for this app: it will not come back after a reboot",
      fix: `protocol cron:add --dir ${app.dir}`,
    };
  } catch (error) {
    const missing = error instanceof MissingProgramError;
    return {
      name,
      ok: false,
      detail: errorMessage(error),
      fix: missing ? "apt-get install cron (Debian/Ubuntu), apk add cronie (Alpine)" : "check crontab -l",
    };
  }
}

/** A systemd node: its units exist and systemd runs them (the crontab has no part in it). */
async function checkSystemdUnits(app: App): Promise<Check> {
  const name = "supervisor";
  const { units } = await readSupervisor(app);
  const fix = `protocol start --supervisor systemd --dir ${app.dir}`;
  if (units.length === 0)
    return { name, ok: false, detail: "systemd supervises this node, but its units are missing", fix };
  const down = units.filter((unit) => unit.active !== "active");
  if (down.length > 0)
    return {
      name,
      ok: false,
      detail: `systemd: ${down.map((u) => `${u.name} is ${u.active}`).join(", ")}`,
      fix: `systemctl status ${down[0]!.name}; then ${fix}`,
    };
  return { name, ok: true, detail: `systemd: ${units.map((u) => u.name).join(", ")} active` };
}
