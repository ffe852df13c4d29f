/** doctor's check of the images slave mode follows: each floating tag's digest readable with the credentials protocol uses. */

import type { App } from "../app/app.ts";
import { readNodeState } from "../app/state.ts";
import { errorMessage, ProtocolError } from "../core/errors.ts";
import { resolveRegistryAuth } from "../docker/credentials.ts";
import { readDotenv } from "../docker/login.ts";
import { isFloating, parseImageRef } from "../docker/parse/image-ref.ts";
import { fetchManifestDigest } from "../docker/registry.ts";
import type { Check } from "./doctor.ts";

export async function checkRegistryAccess(app: App): Promise<Check> {
  const name = "registry";
  if ((app.config.docker?.updates ?? "auto") === "off")
    return { name, ok: true, skipped: true, detail: "docker.updates is off: no image is followed" };
  const followed = readNodeState(app.paths.status)
    .images.map((image) => image.image)
    .filter((image) => {
      try {
        return isFloating(parseImageRef(image));
      } catch {
        return false;
      }
    });
  if (followed.length === 0)
    return { name, ok: true, skipped: true, detail: "no floating image tag recorded yet (checked after a deploy)" };
  const read: string[] = [];
  for (const image of [...new Set(followed)]) {
    const ref = parseImageRef(image);
    try {
      const sources = { env: process.env, dotenv: readDotenv(app.dir), config: app.config.docker ?? {} };
      const { auth, source } = await resolveRegistryAuth(ref.registry, sources);
      await fetchManifestDigest(ref, auth);
      read.push(`${image} (${source})`);
    } catch (error) {
      return {
        name,
        ok: false,
        detail: `${image}: ${errorMessage(error)}`,
        fix:
          error instanceof ProtocolError && error.hint
            ? error.hint
            : "check the registry and its credentials (README: Image updates without pulling)",
      };
    }
  }
  return { name, ok: true, detail: `digests readable: ${read.join(", ")}` };
}
