/** The compose steps of a deploy and of a heal: pull, up. They write nothing; the pass records. */
import type { App } from "../app/app.ts";
import { type ComposeCli, compose, findCompose } from "../docker/docker.ts";
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

/** A heal: `up -d` starts what is stopped or missing and leaves running containers alone; no pull. */
export async function startStopped(app: App): Promise<void> {
  await compose(app, ["up", "-d"]);
}
