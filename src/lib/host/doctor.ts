import { renderTable } from "../core/output.ts";

/**
 * One line of `protocol doctor`: what was checked, whether it passed, what was found, and how to
 * fix it. A "warning" (⚠) is shown with its fix but does not fail doctor (protocol works around it).
 */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  severity?: "error" | "warning";
  /** Not applicable or not checkable here (an https remote has no known_hosts entry). */
  skipped?: boolean;
}

export interface DoctorReport {
  ok: boolean;
  checks: Check[];
}

/** git features protocol relies on: `rev-parse --path-format` (2.31) is the newest. */
export const MIN_GIT: readonly [number, number] = [2, 31];

/** Below this much free space a pull or build of an image is likely to fail. */
export const MIN_FREE_BYTES = 1024 ** 3;

export function fatalFailures(checks: readonly Check[]): Check[] {
  return checks.filter((check) => !check.ok && check.severity !== "warning");
}

export function checkNames(checks: readonly Check[]): string {
  return checks.map((check) => check.name).join(", ");
}

export function doctorReport(checks: Check[]): DoctorReport {
  return { ok: fatalFailures(checks).length === 0, checks };
}

function mark(check: Check): string {
  if (check.skipped) return "-";
  if (check.ok) return "✔";
  return check.severity === "warning" ? "⚠" : "✖";
}

/** One line per check: mark, name, what was found, and the fix for a failure. */
export function renderChecks(checks: readonly Check[]): string[] {
  return renderTable(
    checks.map((check) => [
      mark(check),
      check.name,
      !check.ok && check.fix ? `${check.detail} — fix: ${check.fix}` : check.detail,
    ]),
  );
}

export function renderSummary(checks: readonly Check[]): string {
  const failed = fatalFailures(checks);
  const warnings = checks.filter((check) => !check.ok && check.severity === "warning").length;
  const note = warnings > 0 ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : "";
  if (failed.length === 0) return `all checks passed${note}`;
  return `${failed.length} of ${checks.length} checks failed${note}: ${checkNames(failed)}`;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `git version 2.39.2` → ✔ when at least MIN_GIT. */
export function gitVersionCheck(stdout: string | null): Check {
  const name = "git";
  if (stdout === null)
    return {
      name,
      ok: false,
      detail: "git is not installed",
      fix: "apt-get install git (Debian/Ubuntu), apk add git (Alpine)",
    };
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(stdout);
  if (!match)
    return {
      name,
      ok: false,
      detail: `cannot read the version from ${JSON.stringify(stdout.trim())}`,
      fix: "reinstall git",
    };
  const [major, minor] = [Number(match[1]), Number(match[2])];
  const version = match[0];
  if (major < MIN_GIT[0] || (major === MIN_GIT[0] && minor < MIN_GIT[1])) {
    return {
      name,
      ok: false,
      detail: `git ${version} is older than ${MIN_GIT.join(".")}`,
      fix: "upgrade git (on old distributions: their backports)",
    };
  }
  return { name, ok: true, detail: `git ${version}` };
}

/** `docker version --format json`: the server part is null when the engine cannot be reached. */
export function dockerEngineCheck(result: { ok: boolean; stdout: string; stderr: string } | null): Check {
  const name = "docker engine";
  if (result === null)
    return {
      name,
      ok: false,
      detail: "docker is not installed",
      fix: "install docker: https://docs.docker.com/engine/install/ (or apt-get install docker.io)",
    };
  let server: string | undefined;
  try {
    server = (JSON.parse(result.stdout) as { Server?: { Version?: string } | null }).Server?.Version;
  } catch {
    server = undefined;
  }
  if (result.ok && server) return { name, ok: true, detail: `engine ${server} reachable` };
  const why = result.stderr.split("\n").find((line) => line.trim()) ?? "no answer from the engine";
  return {
    name,
    ok: false,
    detail: why.trim(),
    fix: "start the engine (systemctl start docker, or service docker start); if it runs, add this user to the docker group or set DOCKER_HOST",
  };
}

/** compose v2 (`docker compose`) passes; v1 only is a warning (protocol falls back to it); neither fails. */
export function composeCheck(v2: string | null, v1: string | null): Check {
  const name = "compose v2";
  const version = (text: string) => /v?(\d+\.\d+\.\d+)/.exec(text)?.[1] ?? "?";
  if (v2 !== null) return { name, ok: true, detail: `docker compose ${version(v2)}` };
  const fix =
    "install the compose v2 plugin: apt-get install docker-compose-plugin (Docker's apt repository), or see https://docs.docker.com/compose/install/linux/";
  if (v1 !== null) {
    return {
      name,
      ok: false,
      severity: "warning",
      detail: `only docker-compose ${version(v1)} (v1): no health waits with up --wait`,
      fix,
    };
  }
  return { name, ok: false, detail: "neither docker compose nor docker-compose is installed", fix };
}

export function diskCheck(name: string, path: string, space: { free: number; total: number }): Check {
  const detail = `${formatBytes(space.free)} free of ${formatBytes(space.total)} in ${path}`;
  if (space.free >= MIN_FREE_BYTES) return { name, ok: true, detail };
  return { name, ok: false, detail, fix: "free space (docker image prune removes unused images) or grow the disk" };
}
