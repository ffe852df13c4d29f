/**
 * A pass's eyes: everything decide() reads, gathered into one plain Observed value. The cheap part
 * (one ls-remote per followed repo, HEAD, the state file, the containers when something was
 * deployed) is read on every pass; the rest (the fetch and what it tells about local work, the
 * registry, the fleet record) only when decide asks for it.
 */
import { join } from "node:path";
import type { App } from "../app/app.ts";
import { readNodeState } from "../app/state.ts";
import { configHash } from "../config-repo/hash.ts";
import { diskSpace, FetchDiskFullError } from "../core/disk-reserve.ts";
import { errorMessage, NetworkError, ProtocolError } from "../core/errors.ts";
import { projectContainers } from "../docker/containers.ts";
import { composeFiles } from "../docker/docker.ts";
import {
  aheadBehind,
  currentBranch,
  type GitContext,
  hasFetched,
  headCommit,
  lsRemoteBranch,
  trackedChanges,
} from "../git/git.ts";
import type { NodeState } from "../schema/state.ts";
import { readMove } from "./journal.ts";
import type { ConfigRepoState, Incoming, Observed, ServiceState, StepKind } from "./plan.ts";
import type { SyncTarget } from "./target.ts";

/** What observe needs to know beyond the app. */
export interface Eyes {
  app: App;
  ctx: GitContext;
  dotGit: string;
  target: SyncTarget;
  /** docker.keepRunning: look at the containers at all. */
  keepRunning: boolean;
  /** Follow the app's remote (false: only the config repo is followed; the remote is not asked). */
  followApp: boolean;
  /** The clock decisions by time read (waves, backoff): tests pass their own. */
  clock: () => number;
}

/** A service's own opt-out from healing, in its compose file: `labels: { protocol.keep-running: "false" }`. */
export const KEEP_RUNNING_LABEL = "protocol.keep-running";

const STATES = new Set<ServiceState["state"]>([
  "running",
  "exited",
  "dead",
  "created",
  "restarting",
  "paused",
  "removing",
]);

/**
 * The deployed commit's services as the engine shows them: each recorded service (or, for a node
 * an older protocol deployed, each service that has a container) with its worst container.
 */
export async function observeServices(
  app: App,
  recorded: NodeState["services"],
): Promise<{ services: ServiceState[] } | { error: string }> {
  let containers: Awaited<ReturnType<typeof projectContainers>>;
  try {
    containers = await projectContainers(app);
  } catch (error) {
    return { error: errorMessage(error) };
  }
  const expected = recorded?.running ?? [...new Set(containers.map((c) => c.service))];
  const names = [...new Set([...expected, ...(recorded?.completed ?? [])])].sort();
  const services = names.map((service): ServiceState => {
    const own = containers.filter((c) => c.service === service);
    if (own.length === 0) return { service, state: "missing", exitCode: null, health: null, ids: [] };
    const worst = own.find((c) => !c.running) ?? own[0]!;
    const state = STATES.has(worst.status as ServiceState["state"])
      ? (worst.status as ServiceState["state"])
      : "exited";
    // The containers a heal starts as they are: stopped ones (one the engine restarts is its own).
    const ids = own.filter((c) => !c.running && c.status !== "restarting").map((c) => c.id);
    const optOut = own.some((c) => c.labels[KEEP_RUNNING_LABEL] === "false");
    return {
      service,
      state,
      exitCode: worst.running ? null : worst.exitCode,
      health: worst.health,
      ids,
      ...(optOut ? { optOut } : {}),
    };
  });
  return { services };
}

/** An error as a pass's result: unreachable (the network), disk-full (a fetch out of room) or error, with its hint. */
export function failure(error: unknown): NonNullable<Observed["remote"]["failed"]> {
  return {
    result: error instanceof NetworkError ? "unreachable" : error instanceof FetchDiskFullError ? "disk-full" : "error",
    error: errorMessage(error),
    ...(error instanceof ProtocolError && error.hint ? { hint: error.hint } : {}),
  };
}

/** The remote's commit, or why it could not be had: a remote that is down stops new commits, not healing. */
async function askRemote(eyes: Eyes): Promise<Pick<Observed["remote"], "commit" | "failed">> {
  try {
    return { commit: await lsRemoteBranch(eyes.ctx, eyes.target.remote, eyes.target.branch) };
  } catch (error) {
    return { commit: null, failed: failure(error) };
  }
}

/**
 * While the remote's commit is held for want of room (its fetch ran out of it), the free space on
 * the objects' file system, which decide compares with the room that fetch had: one statfs, and one
 * rev-parse (a person may have fetched it since: then it is not held). Nothing otherwise.
 */
async function heldFetch(
  eyes: Eyes,
  room: NodeState["diskFull"],
  remote: string | null,
): Promise<Pick<Observed, "objectsFree">> {
  if (!room || remote === null || room.commit !== remote) return {};
  if (await hasFetched(eyes.ctx, eyes.target.remote, eyes.target.branch, remote)) return {};
  return { objectsFree: diskSpace(join(eyes.dotGit, "objects")).free };
}

/** The cheap observation every pass makes; `config` is the config repo's, observed by the pass. */
export async function observe(
  eyes: Eyes,
  done: ReadonlySet<StepKind>,
  config: ConfigRepoState | undefined,
): Promise<Observed> {
  const now = eyes.clock();
  const { app, ctx, target } = eyes;
  const state = readNodeState(app.paths.status);
  const journal = readMove(eyes.dotGit) !== null;
  const head = await headCommit(ctx);
  // Not following the app's remote: the working copy stands for it (only the config repo moves).
  const remote = eyes.followApp ? await askRemote(eyes) : { commit: head };
  const compose = composeFiles(app).length > 0;
  // Containers only matter once something was deployed (decide heals its services).
  const look = eyes.keepRunning && compose && state.deployedCommit !== null;
  return {
    now,
    journal,
    head,
    remote: { name: target.remote, branch: target.branch, ...remote },
    recorded: {
      deployedCommit: state.deployedCommit,
      deployedConfigHash: state.deployedConfigHash,
      quarantine: state.quarantine,
      paused: state.paused,
      deploying: state.deploying,
      heal: state.heal,
      services: state.services,
      images: state.images,
      diskFull: state.diskFull,
    },
    ...(await heldFetch(eyes, state.diskFull, remote.commit)),
    configHash: configHash(app),
    compose,
    containers: look ? await observeServices(app, state.services) : null,
    ...(config ? { configRepo: config } : {}),
    done,
  };
}

/** After the fetch: how the working copy relates to `to`, and whether the move has room. */
export async function observeIncoming(eyes: Eyes, head: string | null, to: string): Promise<Incoming> {
  const { app, ctx } = eyes;
  // Loaded after a fetch only, as room.ts below: an idle pass never looks at incoming files.
  const { localFilesInTheWay } = await import("./local-files.ts");
  const [branch, changes, counts, localFiles] = await Promise.all([
    currentBranch(ctx),
    trackedChanges(ctx),
    head ? aheadBehind(ctx, head, to) : Promise.resolve({ ahead: 0, behind: 1 }),
    localFilesInTheWay(ctx, head, to),
  ]);
  const { bytesToWrite, lackOfRoom, STATE_DIR_NEEDS } = await import("./room.ts");
  const room = await lackOfRoom([
    { path: app.dir, need: await bytesToWrite(ctx, head, to) },
    { path: app.paths.root, need: STATE_DIR_NEEDS },
  ]);
  // The commit's protocol.json governs taking it; an invalid one is refused by the deploy's first step.
  const { protocolJsonAt } = await import("./protocol-json-at.ts");
  const config = await protocolJsonAt(ctx, to).catch(() => null);
  return { branch, changes, ahead: counts.ahead, behind: counts.behind, localFiles, room, config };
}
