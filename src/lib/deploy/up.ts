/** The compose steps of a deploy and of a heal: pull, up. They write nothing; the pass records. */
import type { App } from "../app/app.ts";
import { type ComposeCli, compose, docker, ENGINE_HINT, findCompose } from "../docker/docker.ts";
import { upArgs } from "./health.ts";

export async function pullImages(app: App): Promise<void> {
  await compose(app, ["pull"]);
}

/** `up -d --remove-orphans` (with compose v2's --wait when deploy.health is set); the compose CLI it used. */
export async function upServices(app: App): Promise<ComposeCli> {
  const cli = await findCompose();
  await compose(app, upArgs(app, cli));
  return cli;
}

/** A heal of stopped containers: started as they are (their config, their image), nothing else touched. */
export async function startContainers(ids: string[]): Promise<void> {
  await docker(["start", ...ids], { hint: ENGINE_HINT, query: true });
}

/**
 * A heal of services with no container to start (removed, dead): `up -d --no-deps` of just those,
 * with the working copy's compose files (the deployed commit's); no service named: all of them. No pull.
 */
export async function upMissing(app: App, services: string[]): Promise<void> {
  await compose(app, ["up", "-d", ...(services.length > 0 ? ["--no-deps", ...services] : [])]);
}
