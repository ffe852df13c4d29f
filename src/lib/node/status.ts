import { join } from "node:path";
import { type App, remoteName } from "../app/app.ts";
import { isStale, type LockHolder, readLockHolder } from "../app/lock.ts";
import { type LoopEnv, loopEnvOf, showLoopEnv } from "../app/loop-env.ts";
import { readSlave, type SlaveInfo } from "../app/loops.ts";
import { readDeploys, readNodeState, readRegistration } from "../app/state.ts";
import { effectiveEnv } from "../config-repo/env.ts";
import { configContext, configDir, hasConfigRepo, scanConfigRepo } from "../config-repo/repo.ts";
import { readConfigState } from "../config-repo/sync.ts";
import { freeBytes } from "../core/disk.ts";
import { diskSpace, retryAboveBytes } from "../core/disk-reserve.ts";
import { errorMessage } from "../core/errors.ts";
import { isProcessAlive } from "../core/process.ts";
import { projectContainers } from "../docker/containers.ts";
import { composeFiles, composeProject } from "../docker/docker.ts";
import { nodeIdentity } from "../fleet/identity.ts";
import { gitContext } from "../git/auth.ts";
import { lockIn } from "../git/checkout-lock.ts";
import { currentBranch, gitDir, headCommit, upstreamBranch } from "../git/git.ts";
import type { ConfigState } from "../schema/config-state.ts";
import type { DeployRecord, NodeState } from "../schema/state.ts";
import { readConfigSlave } from "./config-slave.ts";
import { HEAL_DEFAULTS, healBackoffSeconds } from "./heal.ts";
import { type MoveRecord, readMove } from "./journal.ts";
import { STATE_DIR_NEEDS } from "./room.ts";
import { readSupervisor, type SupervisorStatus } from "./supervisor.ts";

export interface NodeStatus {
  dir: string;
  name: string;
  remote: string;
  branch: string | null;
  localCommit: string | null;
  remoteCommit: string | null;
  remoteSeenAt: string | null;
  deployedCommit: string | null;
  slave: SlaveInfo;
  lastSync: NodeState["lastSync"];
  lastDeploy: DeployRecord | null;
  lock: LockHolder | null;
  /**
   * The pass (or deploy, rollback, relink) running now, from the app's sync lock (this state dir's,
   * else the working copy's own: another state dir's): how long it has run, and whether that is
   * longer than all its limits added up (stuck: something escaped a limit; restart ends it).
   */
  pass: { command: string; pid: number; since: string; seconds: number; boundSeconds: number; stuck: boolean } | null;
  /**
   * The working copy's move journal: a move under way (its process alive), or one cut short (kill -9,
   * power loss) that the next pass recovers before anything else; null when there is none.
   */
  move: (MoveRecord & { cutShort: boolean }) | null;
  /** Held by deploy:rollback until start or git:slave. */
  paused: NodeState["paused"];
  /** A commit that failed its deploy and is skipped until the remote moves. */
  quarantine: NodeState["quarantine"];
  /** The deploy running now (the sync lock's holder is alive), else null. */
  deploying: NonNullable<NodeState["deploying"]> | null;
  /** A deploy that was cut short (its process is gone): the next poll deploys again. */
  interruptedDeploy: NonNullable<NodeState["deploying"]> | null;
  /**
   * The last fetch that ran out of room (the sizes, in bytes), the free space there now, and above
   * what the loop fetches that commit again; null when no fetch is held.
   */
  diskFull: (NonNullable<NodeState["diskFull"]> & { freeNow: number; retryAbove: number }) | null;
  /** The state dir's free space: a full one cannot record syncs, so lastSync may be stale. */
  stateDisk: { path: string; freeBytes: number; full: boolean };
  /** The last interrupted move protocol finished, and what it kept aside. */
  lastRecovery: NodeState["lastRecovery"];
  /** Each service's image digest at the last good deploy. */
  images: NodeState["images"];
  /** The floating-tag checks against the registry: errors, backoff, an update waiting (docker.updates=notify). */
  registry: NodeState["registry"];
  registered: boolean;
  /** The compose project this checkout uses; null without a compose file. */
  project: string | null;
  /** The project's containers now (docker inspect); null without a compose file, or when docker cannot say. */
  containers: { service: string; status: string; health: string | null; image: string }[] | null;
  /** Why containers is null although the app has a compose file. */
  containersError: string | null;
  /** The machine's environment (config:env) and the config repo's checked-out branch, when there is one. */
  config: {
    env: string | null;
    dir: string | null;
    branch: string | null;
    slave: SlaveInfo;
    /** The config slave's last poll: a refusal (edits on the box) or a failure shows here. */
    lastSync: ConfigState["lastSync"];
    /** Entries of the config repo protocol refuses to link (links out of it, special files): not linked. */
    refused: { path: string; detail: string }[];
  };
  stateDir: string;
  /** The loop's node id (PROTOCOL_NODE_ID as start recorded it, /etc/machine-id or the host name), or why it has none. */
  node: { id: string | null; source: string | null; error: string | null };
  /** The rollout of the remote's new commit, while the node waits for its wave or holds it. */
  rollout: NodeState["rollout"];
  /** The fleet record not pushed yet (rollout.statusRemote), with the last push's error. */
  fleetReport: NodeState["fleetReport"];
  /** Another machine reports under this node's id (found by the loop's last push of its record). */
  fleetConflict: NodeState["fleetConflict"];
  /** Who keeps the loops running (cron, or systemd and its units' states). */
  supervisor: SupervisorStatus;
  /** DOCKER_HOST, proxies… as start recorded them for the loop (proxy credentials removed). */
  loopEnv: LoopEnv;
  /** What the app's one loop follows: the app's remote, the config repo's. */
  follow: NodeState["follow"];
  /** Restarts of services that stopped behind protocol's back (in the window), and the crash-loop mark. */
  heal: { restarts: number; nextRestartAt: string | null; crashLoop: NodeState["heal"]["crashLoop"] };
  /** The deployed commit's services that are not running now (heal's business; doctor marks them). */
  down: string[];
}

/** The containers, for a person looking at the node (never called by the poll). */
async function readContainers(app: App): Promise<Pick<NodeStatus, "containers" | "containersError">> {
  if (composeFiles(app).length === 0) return { containers: null, containersError: null };
  try {
    const containers = await projectContainers(app);
    return {
      containers: containers.map(({ service, status, health, image }) => ({ service, status, health, image })),
      containersError: null,
    };
  } catch (error) {
    return { containers: null, containersError: errorMessage(error) };
  }
}

/** The node id the loop uses (from the environment start recorded), not the shell's. */
function readIdentity(app: App): NodeStatus["node"] {
  try {
    const { id, source } = nodeIdentity(loopEnvOf(readRegistration(app.paths.registration)?.loopEnv));
    return { id, source, error: null };
  } catch (error) {
    return { id: null, source: null, error: errorMessage(error) };
  }
}

function readMoveJournal(dotGit: string | null): NodeStatus["move"] {
  const move = dotGit ? readMove(dotGit) : null;
  return move ? { ...move, cutShort: !isProcessAlive(move.pid) } : null;
}

/** The pass running now: this state dir's sync lock, else the working copy's (another state dir's). */
async function runningPass(
  app: App,
  stateHolder: LockHolder | null,
  dotGit: string | null,
): Promise<NodeStatus["pass"]> {
  const live = (holder: LockHolder | null) => (holder && !isStale(holder) ? holder : null);
  const holder = live(stateHolder) ?? (dotGit ? live(readLockHolder(lockIn(dotGit, "sync.lock"))) : null);
  if (!holder) return null;
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(holder.since)) / 1000));
  // Loaded only when a pass runs: the deploy path's limits are not start-up's to load.
  const { passBoundSeconds } = await import("./pass-bound.ts");
  const boundSeconds = passBoundSeconds(app);
  return {
    command: holder.command,
    pid: holder.pid,
    since: holder.since,
    seconds,
    boundSeconds,
    stuck: seconds > boundSeconds,
  };
}

/** Everything `status` shows, from local state and the docker engine: no network. */
export async function readNodeStatus(app: App): Promise<NodeStatus> {
  const ctx = gitContext(app);
  const remote = remoteName(app);
  const state = readNodeState(app.paths.status);
  const holder = readLockHolder(app.paths.syncLock);
  // null: not a working copy (yet): status still says what it knows.
  const dotGit = await gitDir(ctx).catch(() => null);
  const live = await readContainers(app);
  const free = await freeBytes(app.paths.root);
  const down = servicesDown(state, live.containers);
  return {
    dir: app.dir,
    name: app.name,
    remote,
    branch: app.config.git?.branch ?? (await upstreamBranch(ctx, remote)) ?? (await currentBranch(ctx)),
    localCommit: await headCommit(ctx),
    remoteCommit: state.remoteCommit,
    remoteSeenAt: state.remoteSeenAt,
    deployedCommit: state.deployedCommit,
    slave: readSlave(app),
    lastSync: state.lastSync,
    lastDeploy: readDeploys(app.paths.deploys).at(-1) ?? null,
    lock: holder && !isStale(holder) ? holder : null,
    pass: await runningPass(app, holder, dotGit),
    move: readMoveJournal(dotGit),
    paused: state.paused,
    quarantine: state.quarantine,
    deploying: state.deploying && holder && !isStale(holder) ? state.deploying : null,
    interruptedDeploy: state.deploying && (!holder || isStale(holder)) ? state.deploying : null,
    lastRecovery: state.lastRecovery,
    diskFull: state.diskFull
      ? {
          ...state.diskFull,
          freeNow: diskSpace(dotGit ? join(dotGit, "objects") : app.dir).free,
          retryAbove: retryAboveBytes(state.diskFull),
        }
      : null,
    stateDisk: { path: app.paths.root, freeBytes: free, full: free < STATE_DIR_NEEDS },
    images: state.images,
    registry: state.registry,
    registered: readRegistration(app.paths.registration)?.enabled ?? false,
    project: composeFiles(app).length > 0 ? composeProject(app) : null,
    ...live,
    config: {
      env: effectiveEnv(app),
      dir: hasConfigRepo(app) ? configDir(app) : null,
      branch: hasConfigRepo(app) ? await currentBranch(configContext(app)) : null,
      slave: readConfigSlave(app),
      lastSync: hasConfigRepo(app) ? readConfigState(app.paths.configStatus).lastSync : null,
      refused: hasConfigRepo(app) ? scanConfigRepo(configDir(app)).refused : [],
    },
    stateDir: app.paths.root,
    node: readIdentity(app),
    rollout: state.rollout && state.rollout.commit !== state.deployedCommit ? state.rollout : null,
    fleetReport: state.fleetReport,
    fleetConflict: state.fleetConflict,
    supervisor: await readSupervisor(app).catch(() => ({ kind: "systemd" as const, units: [] })),
    loopEnv: showLoopEnv(readRegistration(app.paths.registration)?.loopEnv ?? {}),
    follow: state.follow,
    heal: healStatus(app, state, down),
    down,
  };
}

/** The restarts within the window, and when the next one is due while a service is down and waits out its backoff. */
function healStatus(app: App, state: NodeState, down: string[]): NodeStatus["heal"] {
  const policy = { ...HEAL_DEFAULTS, ...app.config.docker?.heal };
  const now = Date.now();
  const marked = new Set(state.heal.crashLoop?.services ?? []);
  let count = 0;
  let next: number | null = null;
  for (const [service, times] of Object.entries(state.heal.restarts)) {
    const restarts = times.filter((at) => now - at < policy.windowSeconds * 1000);
    count += restarts.length;
    const last = restarts.at(-1);
    if (last === undefined || !down.includes(service) || marked.has(service)) continue;
    const due = last + healBackoffSeconds(policy.backoffSeconds, restarts.length) * 1000;
    if (due > now) next = Math.min(next ?? due, due);
  }
  return {
    restarts: count,
    nextRestartAt: next !== null ? new Date(next).toISOString() : null,
    crashLoop: state.heal.crashLoop,
  };
}

/** The services of the last good deploy without a running container (one-shots that finished are not down). */
export function servicesDown(state: NodeState, containers: NodeStatus["containers"]): string[] {
  if (!containers || !state.deployedCommit) return [];
  const expected = state.services?.running ?? [...new Set(containers.map((c) => c.service))];
  return expected.filter((service) => !containers.some((c) => c.service === service && c.status === "running")).sort();
}
