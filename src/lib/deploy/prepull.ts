import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { App } from "../app/app.ts";
import { resolveProject } from "../app/project.ts";
import { readNodeState } from "../app/state.ts";
import { MAX_REPO_FILE_BYTES } from "../core/fs.ts";
import { log } from "../core/log.ts";
import { run, stepFailure } from "../core/spawn.ts";
import { isTerminal } from "../core/terminal.ts";
import {
  composeIdleTimeoutMs,
  composeTotalTimeoutMs,
  DEFAULT_COMPOSE_FILES,
  engineSilent,
  findCompose,
} from "../docker/docker.ts";
import type { GitContext } from "../git/git.ts";
import { showCapped } from "../git/tree.ts";
import type { ProtocolJson } from "../schema/protocol-json.ts";
import { incomingDir } from "./incoming-dir.ts";

/**
 * "Never half-done": pull the images the incoming commit needs before the live working copy moves.
 * Its compose file(s) are read from git into the state dir and run with the app dir as project
 * directory, so .env and relative paths resolve as they will after the move. Returns whether the
 * incoming commit has a compose file at all.
 */
export async function pullIncoming(app: App, ctx: GitContext, commit: string, config: ProtocolJson): Promise<boolean> {
  const configured = config.docker?.compose;
  const candidates = configured ? (Array.isArray(configured) ? configured : [configured]) : DEFAULT_COMPOSE_FILES;
  const files: { name: string; text: string }[] = [];
  for (const name of candidates) {
    const text = await showCapped(ctx, commit, name, {
      cap: MAX_REPO_FILE_BYTES,
      where: `${name} at ${commit.slice(0, 8)}`,
      hint: "a compose file is read whole before the working copy moves: keep it under the cap",
    });
    if (text !== null) files.push({ name, text });
    if (!configured && files.length > 0) break;
  }
  if (files.length === 0) return false;
  const cli = await findCompose();
  const dir = incomingDir(app, "incoming-");
  try {
    const args = files.flatMap(({ name, text }, i) => {
      const path = join(dir, `${i}-${name.replaceAll("/", "_")}`);
      writeFileSync(path, text);
      return ["--file", path];
    });
    const argv = [
      ...cli.argv,
      "--project-name",
      resolveProject(config, config.name ?? app.name, app.dir, readNodeState(app.paths.status)),
      "--project-directory",
      app.dir,
      ...args,
      "pull",
    ];
    log.info(`pulling the images of ${commit.slice(0, 8)} before moving the working copy`);
    const result = await run(argv, {
      cwd: app.dir,
      tee: isTerminal(2),
      tailOnly: true,
      idleTimeoutMs: composeIdleTimeoutMs(),
      timeoutMs: composeTotalTimeoutMs(),
    });
    if (result.timedOut)
      throw engineSilent(`${cli.argv.join(" ")} pull of ${commit.slice(0, 8)}`, composeIdleTimeoutMs());
    if (!result.ok)
      throw stepFailure(
        `${cli.argv.join(" ")} pull`,
        result,
        "the working copy was not moved; protocol retries next poll",
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return true;
}
