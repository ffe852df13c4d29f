import { type App, loadApp } from "../app/app.ts";
import { backupRef as newBackupRef } from "../core/backup.ts";
import { PreconditionError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { shortSha } from "../core/output.ts";
import type { ServiceImage } from "../docker/containers.ts";
import { restoreImages } from "../docker/containers.ts";
import { compose, composeFiles, findCompose } from "../docker/docker.ts";
import { gitContext } from "../git/auth.ts";
import { git, headCommit, resetHard, trackedChanges, updateRef } from "../git/git.ts";
import { waitForGate } from "./health.ts";
import type { Settled } from "./settle.ts";

export interface RollbackTarget {
  commit: string;
  /** The digests recorded at that deploy; [] restores nothing (the tags stay where they are). */
  images: ServiceImage[];
}

/**
 * Put the node back on a known good deploy: that commit checked out, each image tag pointed at the
 * recorded digest, `up` without pull. Commits that exist only here are kept under a backup ref first.
 */
export async function rollbackTo(
  app: App,
  target: RollbackTarget,
): Promise<{ backupRef: string | null; app: App; services: Settled | null }> {
  const ctx = gitContext(app);
  const head = await headCommit(ctx);
  let backupRef: string | null = null;
  if (head !== target.commit) {
    const changes = await trackedChanges(ctx);
    if (changes.length > 0) {
      throw new PreconditionError(
        `cannot roll back: ${changes.length} uncommitted change(s) in ${app.dir}`,
        "commit or stash them first",
      );
    }
    // Moving the branch back loses nothing the remote has; anything else is kept under a ref.
    const onRemote = head ? (await git(ctx, ["branch", "--remotes", "--contains", head])).stdout.trim() !== "" : true;
    if (head && !onRemote) {
      backupRef = newBackupRef("rollback");
      await updateRef(ctx, backupRef, head);
      log.warn(`commits only on this node kept as ${backupRef} (${shortSha(head)})`);
    }
    await resetHard(ctx, target.commit);
  }
  // The good commit's protocol.json and compose files: a probe the failed commit added is not its gate.
  const good = head !== target.commit ? loadApp(app.dir) : app;
  let services: Settled | null = null;
  if (composeFiles(good).length > 0) {
    const cli = await findCompose();
    await restoreImages(target.images);
    await compose(good, ["up", "-d", "--remove-orphans"]);
    // The same gate as a deploy: a good commit that does not come up is not a rollback.
    services = await waitForGate(good, cli);
  }
  log.warn(`rolled back to ${shortSha(target.commit)}`);
  return { backupRef, app: good, services };
}
