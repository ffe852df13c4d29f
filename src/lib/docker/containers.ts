import type * as v from "valibot";
import type { App } from "../app/app.ts";
import { run, stepFailure } from "../core/spawn.ts";
import type { ServiceImageSchema } from "../schema/state.ts";
import { composeProject, docker, dockerQueryTimeoutMs, ENGINE_HINT, engineSilent } from "./docker.ts";
import { type ContainerInfo, digestFor, parseContainers, parseImageDigests } from "./parse/inspect.ts";

/** The project's containers, found by compose's project label (works for compose v1 and v2). */
export async function projectContainers(app: App): Promise<ContainerInfo[]> {
  const ids = (
    await docker(
      ["ps", "--all", "--quiet", "--no-trunc", "--filter", `label=com.docker.compose.project=${composeProject(app)}`],
      { hint: ENGINE_HINT, query: true },
    )
  )
    .split("\n")
    .filter(Boolean);
  if (ids.length === 0) return [];
  // A container can go between ps and inspect (compose recreating it); inspect still prints the rest.
  const timeoutMs = dockerQueryTimeoutMs();
  const inspected = await run(["docker", "inspect", "--type", "container", ...ids], { timeoutMs });
  if (inspected.timedOut) throw engineSilent("docker inspect", timeoutMs);
  if (!inspected.ok && !inspected.stdout.trim().startsWith("[")) {
    throw stepFailure("docker inspect", inspected, ENGINE_HINT);
  }
  return parseContainers(inspected.stdout);
}

/** The last lines a container wrote (stdout and stderr), for a failure's message; "" when docker cannot say. */
export async function containerLogTail(id: string, lines = 3): Promise<string> {
  const result = await run(["docker", "logs", "--tail", String(lines), id], {
    quiet: true,
    timeoutMs: dockerQueryTimeoutMs(),
  });
  return `${result.stdout}\n${result.stderr}`
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(" | ")
    .slice(0, 300);
}

/** A service, the image reference compose runs (e.g. "127.0.0.1:5000/shop:latest") and its registry digest (null when built locally). */
export type ServiceImage = v.InferOutput<typeof ServiceImageSchema>;

/** Which image digest each service runs now: recorded after every deploy, restored by a rollback. */
export async function runningImages(app: App): Promise<ServiceImage[]> {
  const containers = (await projectContainers(app)).filter((c) => c.running);
  if (containers.length === 0) return [];
  const imageIds = [...new Set(containers.map((c) => c.imageId))];
  const digests = parseImageDigests(await docker(["image", "inspect", ...imageIds], { hint: ENGINE_HINT }));
  const seen = new Map<string, ServiceImage>();
  for (const c of containers) {
    seen.set(c.service, {
      service: c.service,
      image: c.image,
      digest: digestFor(digests.get(c.imageId) ?? [], c.image),
    });
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
    // Its progress lines keep it alive under the long steps' silence limit; a stalled registry ends it.
    await docker(["pull", pinned], { hint: ENGINE_HINT, long: true });
    await docker(["tag", pinned, image], { hint: ENGINE_HINT });
  }
}
