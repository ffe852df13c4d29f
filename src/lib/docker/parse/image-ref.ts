/** Docker image references, normalised the way docker does (docker/distribution's reference grammar). */

export const DOCKER_HUB = "registry-1.docker.io";

export interface ImageRef {
  /** Host[:port] of the registry API; Docker Hub's API host for Hub images. */
  registry: string;
  /** Repository path, e.g. "library/nginx" or "acme/shop". */
  repository: string;
  /** The tag, when the reference names one (default "latest" unless pinned by digest). */
  tag: string | null;
  /** The digest, when the reference is pinned ("sha256:…"). */
  digest: string | null;
}

/** The registry part is the first path component when it looks like a host: has a dot or port, or is localhost. */
function isRegistryHost(component: string): boolean {
  return component.includes(".") || component.includes(":") || component === "localhost";
}

export function parseImageRef(reference: string): ImageRef {
  let rest = reference.trim();
  if (!rest || /\s/.test(rest)) throw new Error(`invalid image reference ${JSON.stringify(reference)}`);
  let digest: string | null = null;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/.test(digest))
      throw new Error(`invalid digest in ${JSON.stringify(reference)}`);
  }
  let tag: string | null = null;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new Error(`invalid tag in ${JSON.stringify(reference)}`);
  }
  const parts = rest.split("/");
  let registry = DOCKER_HUB;
  if (parts.length > 1 && isRegistryHost(parts[0]!)) registry = parts.shift()!;
  if (registry === "docker.io" || registry === "index.docker.io") registry = DOCKER_HUB;
  let repository = parts.join("/");
  if (
    !repository ||
    !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)
  ) {
    throw new Error(`invalid repository in ${JSON.stringify(reference)}`);
  }
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  return { registry, repository, tag: tag ?? (digest ? null : "latest"), digest };
}

/** A tag can move under the node (":latest", ":prod"); a digest cannot. */
export function isFloating(ref: ImageRef): boolean {
  return ref.digest === null && ref.tag !== null;
}

/** Loopback registries speak plain HTTP, as docker allows for them. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
