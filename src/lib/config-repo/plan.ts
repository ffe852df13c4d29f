import { dirname, join, relative, resolve, sep } from "node:path";

/**
 * The link planner: pure. Given what the config repo holds and what is at each path in the app,
 * decide every action before any is taken, and list every conflict at once.
 */

/** What is at a path in the app dir (lstat: a symlink is reported as such, with where it points). */
export type TargetState = { kind: "missing" } | { kind: "file" } | { kind: "dir" } | { kind: "link"; value: string };

export type ActionKind = "create" | "keep" | "relink" | "adopt" | "force" | "remove";
export type ConflictKind = "file" | "foreign-link" | "directory" | "parent" | "tracked" | "refused";

export interface LinkAction {
  kind: ActionKind;
  /** Relative to the app dir (and to the config repo: the same relative path). */
  path: string;
  /** The symlink's value (relative), for actions that leave a link. */
  link?: string;
}

export interface LinkConflict {
  kind: ConflictKind;
  path: string;
  detail: string;
}

export interface LinkPlan {
  actions: LinkAction[];
  conflicts: LinkConflict[];
  /** The paths protocol owns once the plan is applied: the ignore block's new content. */
  owned: string[];
}

export interface PlanInput {
  appDir: string;
  configDir: string;
  /** Files in the config repo, relative paths. */
  sources: readonly string[];
  /** The app side of every source, of each source's parent dirs, and of every owned path. */
  targets: Readonly<Record<string, TargetState>>;
  /** Sources the app repo tracks: never linked over. */
  tracked: readonly string[];
  /** Paths the ignore block says protocol linked before. */
  owned: readonly string[];
  /** Remove owned links whose source is gone (refresh, switch, the config slave). */
  prune?: boolean;
  /** What to do with a real file (or a foreign link) in the way. */
  resolve?: "none" | "adopt" | "force";
}

/** The relative symlink value that points from the app's `path` to the config repo's `path`. */
export function linkValue(appDir: string, configDir: string, path: string): string {
  return relative(dirname(join(appDir, path)), join(configDir, path));
}

/** Whether a symlink at app `path` with `value` points into the config repo (lexically: protocol's links are relative). */
export function pointsIntoConfig(appDir: string, configDir: string, path: string, value: string): boolean {
  const target = resolve(dirname(join(appDir, path)), value);
  const root = resolve(configDir);
  return target === root || target.startsWith(root + sep);
}

/** "a/b/c" → ["a", "a/b"]. */
export function parentPaths(path: string): string[] {
  const parts = path.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

const MISSING: TargetState = { kind: "missing" };

export function planLinks(input: PlanInput): LinkPlan {
  const { appDir, configDir } = input;
  const actions: LinkAction[] = [];
  const conflicts: LinkConflict[] = [];
  const tracked = new Set(input.tracked);
  const sources = new Set(input.sources);
  const badParents = new Set<string>();
  const ours = (path: string, state: TargetState) =>
    state.kind === "link" && pointsIntoConfig(appDir, configDir, path, state.value);

  for (const path of [...input.sources].sort()) {
    const parent = parentPaths(path).find((p) => !["missing", "dir"].includes((input.targets[p] ?? MISSING).kind));
    if (parent !== undefined) {
      if (!badParents.has(parent))
        conflicts.push({ kind: "parent", path: parent, detail: `is not a directory, but ${path} must go inside it` });
      badParents.add(parent);
      continue;
    }
    const state = input.targets[path] ?? MISSING;
    const link = linkValue(appDir, configDir, path);
    if (tracked.has(path)) {
      conflicts.push({ kind: "tracked", path, detail: "is tracked by the app repo" });
    } else if (state.kind === "missing") {
      actions.push({ kind: "create", path, link });
    } else if (state.kind === "link" && state.value === link) {
      actions.push({ kind: "keep", path, link });
    } else if (ours(path, state)) {
      actions.push({ kind: "relink", path, link });
    } else if (state.kind === "dir") {
      conflicts.push({ kind: "directory", path, detail: "is a directory in the app" });
    } else if (state.kind === "file" && input.resolve === "adopt") {
      actions.push({ kind: "adopt", path, link });
    } else if (input.resolve === "force") {
      actions.push({ kind: "force", path, link });
    } else if (state.kind === "file") {
      conflicts.push({ kind: "file", path, detail: "is a real file in the app" });
    } else {
      conflicts.push({
        kind: "foreign-link",
        path,
        detail: `is a link protocol did not make (to ${state.kind === "link" ? state.value : "?"})`,
      });
    }
  }

  const linked = actions.map((a) => a.path);
  const stale = input.owned.filter((path) => !sources.has(path) && ours(path, input.targets[path] ?? MISSING));
  if (input.prune) actions.push(...stale.map((path) => ({ kind: "remove" as const, path })));
  const owned = [...new Set([...linked, ...(input.prune ? [] : stale)])].sort();
  return { actions, conflicts, owned };
}

/** Actions that change something on disk. */
export function changes(plan: LinkPlan): LinkAction[] {
  return plan.actions.filter((a) => a.kind !== "keep");
}

/** How to resolve each kind of conflict, for the hint line. */
export function conflictHint(conflicts: readonly LinkConflict[]): string {
  const kinds = new Set(conflicts.map((c) => c.kind));
  const hints: string[] = [];
  if (kinds.has("file"))
    hints.push("--adopt moves the app's file into the config repo, --force backs it up and links over it");
  else if (kinds.has("foreign-link")) hints.push("--force backs the link up and replaces it");
  if (kinds.has("tracked")) hints.push("untrack the file first (protocol config:mv --untrack <path>)");
  if (kinds.has("directory") || kinds.has("parent")) hints.push("move the directory or file in the way aside by hand");
  if (kinds.has("refused"))
    hints.push("make it a regular file in the config repo, or remove it there (--force does not link it)");
  return hints.join("; ");
}
