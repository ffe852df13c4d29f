import type { App } from "../app/app.ts";
import { registryBackoffMs } from "../core/backoff.ts";
import { errorMessage } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { nodeEnv } from "../core/node-env.ts";
import { resolveRegistryAuth } from "../docker/credentials.ts";
import { readDotenv } from "../docker/login.ts";
import { isFloating, parseImageRef } from "../docker/parse/image-ref.ts";
import { fetchManifestDigest, RateLimitedError } from "../docker/registry.ts";
import type { NodeState } from "../schema/state.ts";

export interface ImageUpdate {
  /** image reference → the digest its tag points at now, for every image that moved. */
  digests: Record<string, string>;
}

export interface ImageCheck {
  update: ImageUpdate | null;
  /** The registry record to keep (backoff, error, update waiting), or null when it did not change. */
  registry: NodeState["registry"] | null;
}

/**
 * Ask the registry (HTTP HEAD, no pull) where each floating tag the node runs points now, and
 * compare with the digests recorded at the last deploy. A registry that is down or rate-limiting
 * backs off on its own schedule and is reported in status; the node keeps running.
 */
export async function checkImageUpdates(app: App, state: NodeState, now = Date.now()): Promise<ImageCheck> {
  const nothing = { update: null, registry: null };
  if ((app.config.docker?.updates ?? "auto") === "off") return nothing;
  if (state.registry.nextCheckAt !== null && now < state.registry.nextCheckAt) return nothing;
  const watched = new Map<string, string>();
  for (const { image, digest } of state.images) {
    if (!digest) continue;
    try {
      if (isFloating(parseImageRef(image))) watched.set(image, digest);
    } catch {
      // an image reference docker accepted but this parser does not: not followed
    }
  }
  if (watched.size === 0) return nothing;
  const moved: Record<string, string> = {};
  try {
    // A .env protocol refuses to read (not a regular file, too big) fails the check like a registry error.
    const sources = { env: nodeEnv(), dotenv: readDotenv(app.dir), config: app.config.docker ?? {} };
    for (const [image, running] of watched) {
      const ref = parseImageRef(image);
      const { auth } = await resolveRegistryAuth(ref.registry, sources);
      const current = await fetchManifestDigest(ref, auth);
      if (current !== running) moved[image] = current;
    }
  } catch (error) {
    const failures = state.registry.failures + 1;
    const wait = error instanceof RateLimitedError ? error.retryAfterSeconds * 1000 : registryBackoffMs(failures);
    const message = errorMessage(error);
    if (message !== state.registry.error) log.warn(`image check: ${message}; next try in ${Math.round(wait / 1000)}s`);
    return { update: null, registry: { ...state.registry, failures, nextCheckAt: now + wait, error: message } };
  }
  const updateAvailable =
    Object.keys(moved).length > 0
      ? Object.entries(moved)
          .map(([image, digest]) => `${image}@${digest}`)
          .join(", ")
      : null;
  const changed =
    state.registry.failures > 0 || state.registry.error || state.registry.updateAvailable !== updateAvailable;
  return {
    update: updateAvailable ? { digests: moved } : null,
    registry: changed ? { failures: 0, nextCheckAt: null, error: null, updateAvailable } : null,
  };
}
