/** Branches and commits of a repo protocol writes to: the config repo's environments. */
import { type GitContext, git, gitOutput, headCommit } from "./git.ts";

export async function branchExists(ctx: GitContext, branch: string): Promise<boolean> {
  return (await git(ctx, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`])).ok;
}

export async function createBranch(ctx: GitContext, branch: string, startPoint: string, track = false): Promise<void> {
  await gitOutput(ctx, ["branch", ...(track ? ["--track"] : ["--no-track"]), "--", branch, startPoint]);
}

export async function switchBranch(ctx: GitContext, branch: string): Promise<void> {
  await gitOutput(ctx, ["switch", "--quiet", "--no-guess", branch]);
}

/** A commit of the empty tree with no parent: the first commit of a new, empty environment. */
export async function commitEmptyTree(ctx: GitContext, message: string): Promise<string> {
  const tree = (await gitOutput(ctx, ["hash-object", "-t", "tree", "/dev/null"])).trim();
  return (await gitOutput(ctx, ["commit-tree", tree, "-m", message])).trim();
}

/** Stage everything and commit; false when there was nothing to commit. */
export async function commitAll(ctx: GitContext, message: string): Promise<boolean> {
  await gitOutput(ctx, ["add", "--all"]);
  if ((await git(ctx, ["diff", "--cached", "--quiet"])).ok && (await headCommit(ctx)) !== null) return false;
  await gitOutput(ctx, ["commit", "--quiet", "--allow-empty", "-m", message]);
  return true;
}
