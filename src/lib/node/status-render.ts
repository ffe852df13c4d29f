/** What `status` prints for a person: the node's status (status.ts reads it) as a table. */

import { describeLoop } from "../app/loops.ts";
import { mb } from "../core/disk.ts";
import { duration, renderTable, shortSha } from "../core/output.ts";
import { CONFLICT_FIX, conflictMessage } from "../fleet/report.ts";
import type { NodeStatus } from "./status.ts";
import type { SupervisorStatus } from "./supervisor.ts";

/** What the one loop follows, for a person: "the app and the config repo". */
function following(status: NodeStatus): string {
  const parts = [
    ...(status.follow.app ? [`${status.remote}/${status.branch ?? "?"}`] : []),
    ...(status.follow.config && status.config.dir ? [`config ${status.config.branch ?? "?"}`] : []),
  ];
  return parts.join(" and ") || "nothing";
}

const REBOOT = {
  present: "@reboot protocol restart in the crontab",
  missing: "no @reboot line: the node will not come back after a reboot; protocol cron:add (or start) adds it",
  "no-crontab": "no crontab program: the node will not come back after a reboot (install cron, then protocol cron:add)",
  unreadable: "the crontab cannot be read",
} as const;

function describeSupervisor(supervisor: SupervisorStatus): string {
  if (supervisor.kind === "cron") {
    const reboot = supervisor.reboot;
    if (!reboot) return "cron (background loops)";
    const detail = reboot.state === "unreadable" ? `${REBOOT.unreadable}: ${reboot.error}` : REBOOT[reboot.state];
    return `cron (background loops; ${detail})`;
  }
  if (supervisor.units.length === 0)
    return "systemd, but its units are missing (protocol start --supervisor systemd writes them)";
  return `systemd: ${supervisor.units.map((unit) => `${unit.name} ${unit.active}`).join(", ")}`;
}

export function renderStatus(status: NodeStatus, verbose = false): string[] {
  const sync = status.lastSync;
  const rows = [
    ["app", `${status.name} (${status.dir})`],
    ["follows", `${status.remote}/${status.branch ?? "?"}`],
    ["local", shortSha(status.localCommit)],
    ["remote", `${shortSha(status.remoteCommit)}${status.remoteSeenAt ? ` (seen ${status.remoteSeenAt})` : ""}`],
    ["deployed", shortSha(status.deployedCommit)],
    ["slave", `${describeLoop(status.slave)}${status.slave.running ? `, following ${following(status)}` : ""}`],
    ["supervisor", describeSupervisor(status.supervisor)],
    [
      "last sync",
      `${sync ? `${sync.result} at ${sync.at}` : "never"}${status.stateDisk.full ? " (not current: the state dir is full)" : ""}`,
    ],
  ];
  if (status.deploying)
    rows.push([
      "deploying",
      `${shortSha(status.deploying.from)} → ${shortSha(status.deploying.to)} since ${status.deploying.since}`,
    ]);
  const move = status.move;
  if (move)
    rows.push([
      "move",
      move.cutShort
        ? `the move ${shortSha(move.from)} → ${shortSha(move.to)} started ${move.at} was cut short (pid ${move.pid} is gone): the next pass finishes it before anything else (protocol sync, or git:pull)`
        : `moving ${shortSha(move.from)} → ${shortSha(move.to)} since ${move.at} (pid ${move.pid})`,
    ]);
  const stopped = status.interruptedDeploy;
  if (stopped) {
    const what = `the deploy ${shortSha(stopped.from)} → ${shortSha(stopped.to)} started ${stopped.since}`;
    // A pass that ended after it began stopped it, and said why (a refusal before the move); else it was cut short.
    const ended = sync && sync.result === "error" && Date.parse(sync.at) >= Date.parse(stopped.since);
    rows.push([
      "interrupted",
      ended
        ? `${what} stopped: ${sync.error}; the next poll tries again`
        : `${what} was cut short; the next poll deploys again`,
    ]);
  }
  const rolloutNews = sync?.result === "waiting" || sync?.result === "held";
  if (sync?.error) rows.push([rolloutNews ? "rollout" : "error", sync.error]);
  else if (status.rollout && status.rollout.commit === status.remoteCommit)
    rows.push([
      "rollout",
      `${shortSha(status.rollout.commit)}: wave ${status.rollout.wave}, due ${status.rollout.dueAt}`,
    ]);
  const report = status.fleetReport;
  if (report?.error)
    rows.push([
      "fleet",
      `record not pushed (${report.failures} tries): ${report.error}; retried at ${new Date(report.nextAt).toISOString()}`,
    ]);
  if (status.fleetConflict)
    rows.push(["fleet", `${conflictMessage(status.fleetConflict.node, status.fleetConflict)}; ${CONFLICT_FIX}`]);
  const pass = status.pass;
  if (pass?.stuck)
    rows.push([
      "STUCK",
      `${pass.command} (pid ${pass.pid}) has run for ${duration(pass.seconds)}, longer than all its limits (${duration(pass.boundSeconds)}): nothing is followed meanwhile; protocol restart ends it`,
    ]);
  else if (pass) rows.push(["running", `${pass.command} (pid ${pass.pid}) for ${duration(pass.seconds)}`]);
  if (status.paused)
    rows.push([
      "paused",
      `at ${shortSha(status.paused.commit)} since ${status.paused.at}: ${status.paused.reason} (protocol start resumes)`,
    ]);
  if (status.quarantine)
    rows.push([
      "quarantine",
      `${shortSha(status.quarantine.commit)} skipped until the remote moves: ${status.quarantine.reason}`,
    ]);
  const room = status.diskFull;
  if (room)
    rows.push([
      "disk full",
      `fetching ${shortSha(room.commit)} stopped at ${mb(room.freeAtStop)} MB free on ${room.mount} (reserve ${mb(room.reserve)} MB, ${mb(room.freeBefore)} MB free before it) at ${room.at}; ${mb(room.freeNow)} MB free now, fetched again above ${mb(room.retryAbove)} MB or on a new commit`,
    ]);
  if (status.stateDisk.full)
    rows.push(["disk", `no space left at ${status.stateDisk.path}: syncs cannot be recorded; free space there`]);
  const recovery = status.lastRecovery;
  if (recovery)
    rows.push([
      "recovered",
      `a move to ${shortSha(recovery.to)} cut short, finished at ${recovery.at}${recovery.kept ? `; local changes kept in ${recovery.kept}` : ""}`,
    ]);
  for (const image of status.images)
    rows.push(["image", `${image.service}: ${image.image}${image.digest ? `@${image.digest.slice(0, 19)}` : ""}`]);
  if (status.registry.error) rows.push(["registry", status.registry.error]);
  if (status.registry.updateAvailable) rows.push(["update", `new image available: ${status.registry.updateAvailable}`]);
  if (status.project) rows.push(["project", status.project]);
  for (const c of status.containers ?? [])
    rows.push(["container", `${c.service}: ${c.status}${c.health ? ` (${c.health})` : ""}, ${c.image}`]);
  if (status.containers?.length === 0) rows.push(["containers", "none running (protocol docker:compose starts them)"]);
  if (status.containersError) rows.push(["containers", `unknown: ${status.containersError}`]);
  if (status.heal.crashLoop)
    rows.push([
      "crash-looping",
      `${status.heal.crashLoop.services.join(", ")} since ${status.heal.crashLoop.since} (${status.heal.crashLoop.restarts} restarts); left alone until the next commit, image or protocol start`,
    ]);
  else if (status.down.length > 0)
    rows.push([
      "down",
      `${status.down.join(", ")} not running${status.slave.running && status.follow.app ? "; the loop starts it again" : "; protocol start starts it again"}`,
    ]);
  if (status.heal.restarts > 0)
    rows.push([
      "restarts",
      `${status.heal.restarts} in the window${status.heal.nextRestartAt ? `; the next at ${status.heal.nextRestartAt}` : ""}`,
    ]);
  if (status.config.dir) {
    const followed = status.config.slave.running && status.follow.config;
    const slave = followed ? "followed by slave mode" : `not followed (protocol config:slave follows it)`;
    rows.push(["config", `${status.config.branch ?? "?"} in ${status.config.dir} (${slave})`]);
    const last = status.config.lastSync;
    if (last?.error) rows.push(["config sync", `${last.result} at ${last.at}: ${last.error}`]);
    for (const refused of status.config.refused) rows.push(["not linked", `${refused.path} ${refused.detail}`]);
  }
  rows.push(["env", status.config.env ?? "not set (protocol config:env <env>)"]);
  rows.push([
    "node",
    status.node.id ? `${status.node.id} (from ${status.node.source})` : `unknown: ${status.node.error}`,
  ]);
  rows.push(["state", status.stateDir]);
  if (verbose) {
    const env = Object.entries(status.loopEnv).map(([name, value]) => `${name}=${value}`);
    rows.push(["loop env", env.length > 0 ? env.join(" ") : "none of DOCKER_HOST, DOCKER_CONFIG, proxies… (defaults)"]);
  }
  return renderTable(rows);
}
