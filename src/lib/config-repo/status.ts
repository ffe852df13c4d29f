import type { App } from "../app/app.ts";
import { describeLoop, type SlaveInfo } from "../app/loops.ts";
import { renderTable, shortSha } from "../core/output.ts";
import { redactUrl } from "../core/validate.ts";
import { allChanges, currentBranch, headCommit, remoteUrl } from "../git/git.ts";
import type { ConfigState } from "../schema/config-state.ts";
import { effectiveEnv } from "./env.ts";
import { gitignoreHoldsBlock } from "./ignore.ts";
import { planConfigLinks } from "./links.ts";
import { CONFIG_REMOTE, configDir, hasConfigRepo, openConfigRepo } from "./repo.ts";
import { readConfigState } from "./sync.ts";

export type LinkState = "linked" | "missing" | "wrong-target" | "broken" | "conflict";

export interface ConfigStatus {
  app: string;
  dir: string;
  exists: boolean;
  /** This machine's environment (config:env), and the branch the config repo is on. */
  env: string | null;
  branch: string | null;
  commit: string | null;
  remote: string | null;
  links: { path: string; state: LinkState; detail?: string }[];
  /** Linked files changed on this box and not saved (config:save); untracked ones are "unsaved". */
  edited: string[];
  unsaved: string[];
  ignoreFile: string | null;
  /** The app's .gitignore holds a protocol block someone committed: left alone (protocol writes only .git/info/exclude). */
  trackedIgnoreBlock: boolean;
  slave: SlaveInfo;
  lastSync: ConfigState["lastSync"];
}

const STATES = {
  keep: "linked",
  create: "missing",
  relink: "wrong-target",
  remove: "broken",
  adopt: "conflict",
  force: "conflict",
} as const;

/** Paths and states only: never file contents, so secrets cannot leak into the output. */
/** `slave`: the loop that follows the config repo (the app's one loop, node/config-slave.ts). */
export async function readConfigStatus(app: App, slave: SlaveInfo): Promise<ConfigStatus> {
  const base = {
    app: app.dir,
    dir: configDir(app),
    env: effectiveEnv(app),
    slave,
    lastSync: readConfigState(app.paths.configStatus).lastSync,
  };
  if (!hasConfigRepo(app))
    return {
      ...base,
      exists: false,
      branch: null,
      commit: null,
      remote: null,
      links: [],
      edited: [],
      unsaved: [],
      ignoreFile: null,
      trackedIgnoreBlock: false,
    };
  const repo = openConfigRepo(app);
  const { plan, ignoreFile } = await planConfigLinks(app, repo, { prune: true });
  const links = [
    ...plan.actions.map((a) => ({ path: a.path, state: STATES[a.kind] as LinkState })),
    ...plan.conflicts.map((c) => ({ path: c.path, state: "conflict" as const, detail: c.detail })),
  ].sort((a, b) => a.path.localeCompare(b.path));
  const changes = await allChanges(repo.ctx);
  const url = await remoteUrl(repo.ctx, CONFIG_REMOTE);
  return {
    ...base,
    exists: true,
    branch: await currentBranch(repo.ctx),
    commit: await headCommit(repo.ctx),
    remote: url ? redactUrl(url) : null,
    links,
    edited: changes.filter((c) => c.code !== "??").map((c) => c.path),
    unsaved: changes.filter((c) => c.code === "??").map((c) => c.path),
    ignoreFile,
    trackedIgnoreBlock: gitignoreHoldsBlock(app.dir),
  };
}

export function renderConfigStatus(status: ConfigStatus): string[] {
  if (!status.exists) return [`no config repo at ${status.dir} (protocol config:init creates or clones one)`];
  const sync = status.lastSync;
  const rows = [
    ["config", status.dir],
    [
      "env",
      `${status.branch ?? "(detached)"} at ${shortSha(status.commit)}${status.env && status.env !== status.branch ? ` (this machine's env: ${status.env})` : ""}`,
    ],
    ["remote", status.remote ?? "none"],
    ["slave", describeLoop(status.slave)],
    ["last sync", sync ? `${sync.result} at ${sync.at}${sync.error ? `: ${sync.error}` : ""}` : "never"],
  ];
  for (const link of status.links) rows.push([link.state, `${link.path}${link.detail ? ` (${link.detail})` : ""}`]);
  for (const path of status.edited) rows.push(["edited", `${path} (changed on this box, not saved)`]);
  for (const path of status.unsaved) rows.push(["unsaved", `${path} (new, not saved)`]);
  if (status.trackedIgnoreBlock)
    rows.push([
      "note",
      "the app's .gitignore holds a protocol block (committed): left alone; links are ignored in .git/info/exclude",
    ]);
  return renderTable(rows);
}
