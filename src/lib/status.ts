import { type App } from "./app.ts";
import { readSlave, type SlaveInfo } from "./daemon.ts";
import { currentBranch, headCommit, upstreamBranch } from "./git.ts";
import { gitContext } from "./git-auth.ts";
import { isStale, readLockHolder, type LockHolder } from "./lock.ts";
import { renderTable, shortSha } from "./output.ts";
import type { DeployRecord, NodeState } from "./schema/state.ts";
import { readDeploys, readNodeState, readRegistration } from "./state.ts";
import { remoteName } from "./app.ts";

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
  registered: boolean;
  stateDir: string;
}

/** Everything `status` shows, from local state only: no network. */
export async function readNodeStatus(app: App): Promise<NodeStatus> {
  const ctx = gitContext(app);
  const remote = remoteName(app);
  const state = readNodeState(app.paths.status);
  const holder = readLockHolder(app.paths.syncLock);
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
    registered: readRegistration(app.paths.registration)?.enabled ?? false,
    stateDir: app.paths.root,
  };
}

export function renderStatus(status: NodeStatus): string[] {
  const sync = status.lastSync;
  const rows = [
    ["app", `${status.name} (${status.dir})`],
    ["follows", `${status.remote}/${status.branch ?? "?"}`],
    ["local", shortSha(status.localCommit)],
    ["remote", `${shortSha(status.remoteCommit)}${status.remoteSeenAt ? ` (seen ${status.remoteSeenAt})` : ""}`],
    ["deployed", shortSha(status.deployedCommit)],
    ["slave", status.slave.running ? `running (pid ${status.slave.pid}, since ${status.slave.since})` : "stopped"],
    ["last sync", sync ? `${sync.result} at ${sync.at}` : "never"],
  ];
  if (sync?.error) rows.push(["error", sync.error]);
  if (status.lock) rows.push(["lock", `held by pid ${status.lock.pid} (${status.lock.command})`]);
  rows.push(["state", status.stateDir]);
  return renderTable(rows);
}
