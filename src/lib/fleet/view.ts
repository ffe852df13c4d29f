/** `protocol fleet`: the record as a table or a JSON document, with the nodes not heard from marked stale. */
import { renderTable, shortSha } from "../core/output.ts";
import { safeLine } from "../core/validate.ts";
import type { FleetRecord } from "../schema/fleet.ts";
import { clockAhead, type EnvView, type FleetView, staleNodes } from "./records.ts";

export interface FleetNode extends FleetRecord {
  ageSeconds: number;
  stale: boolean;
  /** Its `at` is ahead of this machine's clock: shown, never taken as fresher than now. */
  clockAhead: boolean;
}

export interface FleetEnvReport {
  env: string;
  frozen: EnvView["freeze"];
  releases: EnvView["releases"];
  nodes: FleetNode[];
  /** Refs on the status remote whose record could not be read (ignored by every node), and why. */
  ignored: EnvView["ignored"];
}

export function fleetReport(view: FleetView, now: number, staleMs: number): FleetEnvReport[] {
  return [...view].map(([env, entry]) => {
    const stale = staleNodes(entry.records, now, staleMs);
    return {
      env,
      frozen: entry.freeze,
      releases: entry.releases,
      ignored: entry.ignored,
      nodes: entry.records
        .map((r) => ({
          ...r,
          // A time that is not one (a forged record) reads as age 0, and clock ahead.
          ageSeconds: Math.max(0, Math.round((now - Date.parse(r.at)) / 1000)) || 0,
          stale: stale.has(r.node),
          clockAhead: clockAhead(r, now),
        }))
        .sort((a, b) => a.wave - b.wave || a.node.localeCompare(b.node)),
    };
  });
}

/** 42s, 5m, 3h, 2d. Pure. */
export function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

function note(node: FleetNode): string {
  if (node.conflict) return `two machines: also reported from ${node.conflict.machine} at ${node.conflict.at}`;
  if (node.clockAhead) return `clock ahead: reported at ${node.at}${node.stale ? ", and stale" : ""}`;
  if (node.stale) return `stale: no report since ${node.at}`;
  if (node.result === "waiting" && node.dueAt) return `deploys at ${node.dueAt}`;
  return node.error ?? "";
}

export function renderFleet(reports: FleetEnvReport[], url: string): string[] {
  if (reports.length === 0) return [`no fleet record at ${url} yet: nodes write theirs after their next deploy`];
  return reports.flatMap((report, i) => {
    const lines = [`${report.env}: ${report.nodes.length} nodes (${url})`];
    if (report.frozen) lines.push(`frozen since ${report.frozen.at} by ${report.frozen.by}: ${report.frozen.reason}`);
    for (const release of report.releases) lines.push(`released ${release.commit} (${release.by}, ${release.at})`);
    for (const { ref, node, why } of report.ignored)
      lines.push(`ignored ${node ? `the record of node ${node} (${ref})` : ref}: ${why}`);
    const rows = report.nodes.map((node) => [
      node.node,
      String(node.wave),
      shortSha(node.running),
      `${node.result} ${shortSha(node.commit)}`,
      formatAge(node.ageSeconds),
      note(node),
    ]);
    // The lines too show what others wrote (a freeze's reason, a ref's name): one safe line each.
    return [
      ...(i > 0 ? [""] : []),
      ...lines.map(safeLine),
      ...renderTable([["node", "wave", "running", "last", "age", "note"], ...rows]),
    ];
  });
}
