import * as v from "valibot";

/** The parts of `docker inspect <container>` protocol reads (compose v1 and v2 label the same way). */
const ContainerSchema = v.object({
  Id: v.string(),
  Image: v.string(),
  Config: v.object({
    Image: v.string(),
    Labels: v.optional(v.nullable(v.record(v.string(), v.string())), {}),
  }),
  State: v.object({
    Status: v.string(),
    Running: v.boolean(),
    ExitCode: v.optional(v.number(), 0),
    StartedAt: v.optional(v.string(), ""),
    Health: v.optional(v.nullable(v.object({ Status: v.string() }))),
  }),
  RestartCount: v.optional(v.number(), 0),
});

const ImageSchema = v.object({
  Id: v.string(),
  RepoDigests: v.optional(v.nullable(v.array(v.string())), []),
});

export interface ContainerInfo {
  id: string;
  service: string;
  /** The image reference compose was given, e.g. "registry.example.com/shop:latest". */
  image: string;
  imageId: string;
  status: string;
  running: boolean;
  exitCode: number;
  /** "healthy", "unhealthy", "starting", or null when the container has no healthcheck. */
  health: string | null;
  /** When the engine last started it (epoch ms); null when it never ran or the engine does not say. */
  startedAt: number | null;
  /** How often the engine restarted it by its restart policy. */
  restartCount: number;
  /** Its labels (compose's, and the app's own, e.g. `protocol.keep-running`). */
  labels: Record<string, string>;
}

/** docker's "0001-01-01T00:00:00Z" means never started. */
function startedAt(value: string): number | null {
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

/** `docker inspect` output → the project's service containers (one-off `run` containers left out). */
export function parseContainers(stdout: string): ContainerInfo[] {
  const parsed = v.parse(v.array(ContainerSchema), JSON.parse(stdout || "[]"));
  return parsed
    .filter((c) => c.Config.Labels?.["com.docker.compose.oneoff"] !== "True")
    .map((c) => ({
      id: c.Id,
      service: c.Config.Labels?.["com.docker.compose.service"] ?? "",
      image: c.Config.Image,
      imageId: c.Image,
      status: c.State.Status,
      running: c.State.Running,
      exitCode: c.State.ExitCode,
      health: c.State.Health?.Status ?? null,
      startedAt: startedAt(c.State.StartedAt),
      restartCount: c.RestartCount,
      labels: c.Config.Labels ?? {},
    }));
}

/** `docker image inspect` output → image id → its repo digests ("repo@sha256:…"). */
export function parseImageDigests(stdout: string): Map<string, string[]> {
  const parsed = v.parse(v.array(ImageSchema), JSON.parse(stdout || "[]"));
  return new Map(parsed.map((image) => [image.Id, image.RepoDigests ?? []]));
}

/** The digest part of the repo digest that belongs to `repository` (the reference without tag). */
export function digestFor(repoDigests: string[], reference: string): string | null {
  const repository = reference.replace(/@.*$/, "").replace(/:[^/:]+$/, "");
  const match = repoDigests.find((entry) => entry.startsWith(`${repository}@`));
  return match ? match.slice(match.indexOf("@") + 1) : null;
}

export type HealthVerdict = "healthy" | "unhealthy" | "waiting";

/**
 * Compose v1 has no `up --wait`: judge the containers themselves. Unhealthy or exited with an error
 * fails at once; every container running (and healthy where it has a healthcheck) passes.
 */
export function judgeHealth(containers: ContainerInfo[]): { verdict: HealthVerdict; detail: string } {
  if (containers.length === 0) return { verdict: "waiting", detail: "no containers yet" };
  const bad = containers.find(
    (c) => c.health === "unhealthy" || (!c.running && c.status !== "created" && c.exitCode !== 0),
  );
  if (bad)
    return {
      verdict: "unhealthy",
      detail: `${bad.service} is ${bad.health === "unhealthy" ? "unhealthy" : `${bad.status} (exit ${bad.exitCode})`}`,
    };
  const pending = containers.find(
    (c) =>
      (c.health !== null && c.health !== "healthy") ||
      (c.health === null && !c.running && c.exitCode !== 0) ||
      c.status === "created" ||
      c.status === "restarting",
  );
  if (pending) return { verdict: "waiting", detail: `${pending.service} is ${pending.health ?? pending.status}` };
  return { verdict: "healthy", detail: `${containers.length} container(s) up` };
}
