import { type App, remoteName } from "../app/app.ts";
import { PreconditionError } from "../core/errors.ts";
import { branchNameProblem } from "../core/refname.ts";
import {
  currentBranch,
  type GitContext,
  localRemoteHead,
  remoteDefaultBranch,
  remoteUrl,
  upstreamBranch,
} from "../git/git.ts";

export interface SyncTarget {
  remote: string;
  branch: string;
}

/**
 * What the node follows: git.branch, else the checked-out branch's upstream, else the remote's
 * default branch (as recorded at clone time, then as the remote says).
 */
export async function resolveTarget(app: App, ctx: GitContext): Promise<SyncTarget> {
  const remote = remoteName(app);
  if ((await remoteUrl(ctx, remote)) === null) {
    const url = app.config.git?.remote;
    throw new PreconditionError(
      `the working copy has no remote named ${remote}`,
      url
        ? `add it: git -C ${app.dir} remote add ${remote} ${url}`
        : `add one with git remote add ${remote} <url>, or set git.remotename`,
    );
  }
  const branch =
    app.config.git?.branch ??
    (await upstreamBranch(ctx, remote)) ??
    (await localRemoteHead(ctx, remote)) ??
    (await remoteDefaultBranch(ctx, remote)) ??
    (await currentBranch(ctx));
  if (!branch)
    throw new PreconditionError(`cannot tell which branch of ${remote} to follow`, "set git.branch in protocol.json");
  // A name from the remote or the repo reaches a refspec: checked like protocol.json's git.branch.
  const problem = branchNameProblem(branch);
  if (problem) {
    throw new PreconditionError(
      `the branch to follow, ${JSON.stringify(branch)}, ${problem}`,
      "set git.branch in protocol.json",
    );
  }
  return { remote, branch };
}
