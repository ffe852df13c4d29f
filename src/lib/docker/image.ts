import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { App } from "../node/app.ts";
import { compose, composeProject, findCompose } from "./docker.ts";
import { loginForImage } from "./login.ts";
import { ConfigError, StepFailedError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { firstLine } from "../git/parse.ts";
import { builtServiceImage } from "./parse/compose-config.ts";
import { run } from "../core/spawn.ts";

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

async function docker(args: string[], options: { inherit?: boolean } = {}): Promise<void> {
  log.info(`running docker ${args.join(" ")}`);
  const result = await run(["docker", ...args], options);
  if (!result.ok) throw new StepFailedError(`docker ${args[0]} failed: ${firstLine(result.stderr) || `exit ${result.exitCode}`}`);
}

/** The Dockerfile dir of docker.local, relative to the app. */
function localContext(app: App, local: string): string {
  const dir = resolve(app.dir, local);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError(`docker.local is ${JSON.stringify(local)}, but ${dir} is not a directory`, "point docker.local at the directory holding the Dockerfile");
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
    await docker(["build", "--tag", image, "--", localContext(app, local)], { inherit: true });
    return { image, from: "dockerfile" };
  }
  await compose(app, ["build", ...(service ? [service] : [])], { inherit: true });
  const image = app.config.docker?.image;
  if (!image) return { image: null, from: "compose" };
  const config = await compose(app, ["config"], { quiet: true });
  const cli = await findCompose();
  const built = builtServiceImage(config.stdout, composeProject(app), cli.version, service ?? app.config.docker?.service);
  if (built !== image) await docker(["tag", "--", built, image]);
  return { image, from: "compose" };
}

/** Push docker.image (logging in first when credentials are configured), else `compose push`. */
export async function pushImage(app: App): Promise<string | null> {
  const image = app.config.docker?.image;
  if (!image) {
    await compose(app, ["push"], { inherit: true });
    return null;
  }
  await loginForImage(app, image);
  await docker(["push", "--", image], { inherit: true });
  return image;
}

/** Pull docker.image (logging in first when credentials are configured), else `compose pull`. */
export async function pullImage(app: App): Promise<string | null> {
  const image = app.config.docker?.image;
  if (!image) {
    await compose(app, ["pull"], { inherit: true });
    return null;
  }
  await loginForImage(app, image);
  await docker(["pull", "--", image], { inherit: true });
  return image;
}
