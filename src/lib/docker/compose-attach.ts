import type { App } from "../app/app.ts";
import { log } from "../core/log.ts";
import { compose } from "./docker.ts";

/** The nginx image's log files (tail -F follows them across log rotation). */
export const NGINX_LOGS = ["/var/log/nginx/access.log", "/var/log/nginx/error.log"];

/** docker's exit codes for "command not found" (127) and "not executable" (126) in the container. */
const NOT_FOUND = new Set([126, 127]);

/** `exec [-T] <service> <command…>`: -T (no TTY) only when stdin is not a terminal, so pipes work. */
export function execArgs(service: string, command: readonly string[], stdinIsTty: boolean): string[] {
  return ["exec", ...(stdinIsTty ? [] : ["-T"]), service, ...command];
}

export function logsArgs(options: { service?: string; tail?: number }): string[] {
  return [
    "logs",
    "--follow",
    ...(options.tail === undefined ? [] : ["--tail", String(options.tail)]),
    ...(options.service ? [options.service] : []),
  ];
}

export function nginxLogsCommand(tail?: number): string[] {
  return ["tail", ...(tail === undefined ? [] : ["-n", String(tail)]), "-F", ...NGINX_LOGS];
}

/** Run compose attached to the terminal and return its exit code (the container's, for exec). */
export async function composeAttached(app: App, args: string[]): Promise<number> {
  return (await compose(app, args, { inherit: true, allowFailure: true, quiet: true })).exitCode;
}

/**
 * Run a command in the service; with no command, a shell: bash, or sh when the container has no
 * bash (docker exits 126/127 when it cannot start the program).
 */
export async function execInService(
  app: App,
  service: string,
  command: readonly string[],
  stdinIsTty: boolean,
): Promise<number> {
  if (command.length > 0) return composeAttached(app, execArgs(service, command, stdinIsTty));
  const code = await composeAttached(app, execArgs(service, ["bash"], stdinIsTty));
  if (!NOT_FOUND.has(code)) return code;
  log.info(`no bash in ${service}; opening sh`);
  return composeAttached(app, execArgs(service, ["sh"], stdinIsTty));
}
