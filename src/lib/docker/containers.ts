import type * as v from "valibot";
import type { App } from "../node/app.ts";
import type { ServiceImageSchema } from "../schema/state.ts";
import { composeProject } from "./docker.ts";
import { StepFailedError } from "../core/errors.ts";
import { digestFor, parseContainers, parseImageDigests, type ContainerInfo } from "./parse/inspect.ts";
import { firstLine } from "../git/parse.ts";
import { run } from "../core/spawn.ts";

async function docker(args: string[]): Promise<string> {
  const result = await run(["docker", ...args]);
  if (!result.ok) throw new StepFailedError(`docker ${args[0]} failed: ${firstLine(result.stderr) || `exit ${result.exitCode}`}`, "is the docker engine running? try: docker info");
  return result.stdout;
}

/** The project's containers, found by compose's project label (works for compose v1 and v2). */
export async function projectContainers(app: App): Promise<ContainerInfo[]> {
  const ids = (await docker(["ps", "--all", "--quiet", "--no-trunc", "--filter", `label=com.docker.compose.project=${composeProject(app)}`]))
    .split("\n")
    .filter(Boolean);
  if (ids.length === 0) return [];
  // A container can go between ps and inspect (compose recreating it); inspect still prints the rest.
  const inspected = await run(["docker", "inspect", "--type", "container", ...ids]);
  if (!inspected.ok && !inspected.stdout.trim().startsWith("[")) {
    throw new StepFailedError(`docker inspect failed: ${firstLine(inspected.stderr) || `exit ${inspected.exitCode}`}`, "is the docker engine running? try: docker info");
  }
  return parseContainers(inspected.stdout);
}

/** A service, the image reference compose runs (e.g. "127.0.0.1:5000/shop:latest") and its registry digest (null when built locally). */
export type ServiceImage = v.InferOutput<typeof ServiceImageSchema>;

/** Which image digest each service runs now: recorded after every deploy, restored by a rollback. */
export async function runningImages(app: App): Promise<ServiceImage[]> {
  const containers = (await projectContainers(app)).filter((c) => c.running);
  if (containers.length === 0) return [];
  const imageIds = [...new Set(containers.map((c) => c.imageId))];
  const digests = parseImageDigests(await docker(["image", "inspect", ...imageIds]));
  const seen = new Map<string, ServiceImage>();
  for (const c of containers) {
    seen.set(c.service, { service: c.service, image: c.image, digest: digestFor(digests.get(c.imageId) ?? [], c.image) });
  }
  return [...seen.values()].sort((a, b) => a.service.localeCompare(b.service));
}

/**
 * Make each tag point at the recorded digest again (pull by digest, then tag), so the next
 * `compose up` without pull runs exactly the images of the good deploy.
 */
export async function restoreImages(images: ServiceImage[]): Promise<void> {
  for (const { image, digest } of images) {
    if (!digest) continue;
    const pinned = `${image.replace(/@.*$/, "").replace(/:[^/:]+$/, "")}@${digest}`;
    await docker(["pull", "--quiet", pinned]);
    await docker(["tag", pinned, image]);
  }
}
