import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { App } from "../app/app.ts";
import { ConfigError } from "../core/errors.ts";
import { compose, composeProject, docker, findCompose } from "./docker.ts";
import { loginForImage } from "./login.ts";
import { builtServiceImage } from "./parse/compose-config.ts";

/** docker.image, or a ConfigError that names the key. */
export function requireImage(app: App, command: string): string {
  const image = app.config.docker?.image;
  if (!image) {
    throw new ConfigError(
      `${command} needs docker.image in protocol.json (the image to tag)`,
      'add "docker": { "image": "registry.example.com/team/app:latest" } to protocol.json',
    );
  }
  return image;
}

/** The Dockerfile dir of docker.local, relative to the app. */
function localContext(app: App, local: string): string {
  const dir = resolve(app.dir, local);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError(
      `docker.local is ${JSON.stringify(local)}, but ${dir} is not a directory`,
      "point docker.local at the directory holding the Dockerfile",
    );
  }
  return dir;
}

export interface BuildResult {
  image: string | null;
  /** "dockerfile": docker build of docker.local; "compose": compose build (then tagged). */
  from: "dockerfile" | "compose";
}

/**
 * docker.local → `docker build --tag <docker.image> -- <dir>`. Otherwise `compose build` and, when
 * docker.image is set, tag the built image of the service (--service, docker.service, or the first
 * service with a build section) as docker.image.
 */
export async function buildImage(app: App, service?: string): Promise<BuildResult> {
  const local = app.config.docker?.local;
  if (local) {
    const image = requireImage(app, "docker:build with docker.local");
    await docker(["build", "--tag", image, "--", localContext(app, local)], { inherit: true, announce: true });
    return { image, from: "dockerfile" };
  }
  await compose(app, ["build", ...(service ? [service] : [])], { inherit: true });
  const image = app.config.docker?.image;
  if (!image) return { image: null, from: "compose" };
  const config = await compose(app, ["config"], { quiet: true });
  const cli = await findCompose();
  const built = builtServiceImage(
    config.stdout,
    composeProject(app),
    cli.version,
    service ?? app.config.docker?.service,
  );
  if (built !== image) await docker(["tag", "--", built, image], { announce: true });
  return { image, from: "compose" };
}

/** Push or pull docker.image (logging in first when credentials are configured), else `compose push/pull`. */
async function moveImage(app: App, verb: "push" | "pull"): Promise<string | null> {
  const image = app.config.docker?.image;
  if (!image) {
    await compose(app, [verb], { inherit: true });
    return null;
  }
  await loginForImage(app, image);
  await docker([verb, "--", image], { inherit: true, announce: true });
  return image;
}

export const pushImage = (app: App) => moveImage(app, "push");
export const pullImage = (app: App) => moveImage(app, "pull");
