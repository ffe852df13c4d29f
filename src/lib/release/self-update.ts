import { chmodSync } from "node:fs";
import { join } from "node:path";
import { VERSION } from "../../version.ts";
import { downloadFile } from "../core/download.ts";
import { PreconditionError, StepFailedError, UsageError } from "../core/errors.ts";
import { fetchText } from "../core/http.ts";
import { log } from "../core/log.ts";
import { removingOnSignal } from "../core/on-signal.ts";
import { hasProgram } from "../core/spawn.ts";
import { parseSha256Sums, parseVersionFile, ReleaseMetadataError } from "../schema/release.ts";
import { verifySha256 } from "./checksum.ts";
import {
  artifactName,
  type Compression,
  compareVersions,
  compressedName,
  detectPlatform,
  downloadBase,
  pickCompression,
  releaseFileUrl,
} from "./metadata.ts";
import { assertWritableDir, locateSelfBinary, probeVersion, replaceBinary, swapWithBackup } from "./self-binary.ts";
import { fetchSignedSums } from "./signed-sums.ts";
import { unpack } from "./unpack.ts";

export interface Release {
  version: string;
  artifact: string;
  /** The file to download: the artifact, or its .xz / .gz. */
  file: string;
  compression: Compression;
  url: string;
  sha256: string;
  artifactSha256: string;
}

function metadata<T>(url: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ReleaseMetadataError)
      throw new StepFailedError(
        `${url}: ${error.message}`,
        "the release host served something that is not a protocol release; check PROTOCOL_DOWNLOAD_URL",
      );
    throw error;
  }
}

function parsePinned(pinned: string): string {
  try {
    return parseVersionFile(pinned.replace(/^v/, ""));
  } catch {
    throw new UsageError(`--version ${JSON.stringify(pinned)} is not a version like 1.2.3`);
  }
}

async function fetchLatestVersion(base: string): Promise<string> {
  const url = releaseFileUrl(base, null, "VERSION");
  const text = await fetchText(url);
  return metadata(url, () => parseVersionFile(text));
}

/** The latest (or the pinned) release, and which of its files fits this machine. */
export async function lookupRelease(pinned?: string, base = downloadBase()): Promise<Release> {
  const version = pinned ? parsePinned(pinned) : await fetchLatestVersion(base);
  // SHA256SUMS from the versioned path, so a release published meanwhile cannot mix two versions;
  // its signature checked before anything in it is believed.
  const sumsUrl = releaseFileUrl(base, version, "SHA256SUMS");
  const text = await fetchSignedSums(base, version);
  const parsed = metadata(sumsUrl, () => parseSha256Sums(text));
  const platform = detectPlatform();
  const artifact = artifactName(platform);
  if (!artifact)
    throw new PreconditionError(
      `no protocol build for ${platform.os}/${platform.arch}`,
      "protocol runs on Linux and macOS, x86-64 and arm64",
    );
  const artifactSha256 = parsed.get(artifact);
  if (!artifactSha256)
    throw new StepFailedError(
      `release ${version} has no ${artifact} (${sumsUrl})`,
      "pick another version with --version",
    );
  const compression = pickCompression(artifact, parsed, hasProgram("xz"));
  const file = compressedName(artifact, compression);
  return {
    version,
    artifact,
    file,
    compression,
    url: releaseFileUrl(base, version, file),
    sha256: parsed.get(file) ?? artifactSha256,
    artifactSha256,
  };
}

export interface UpdateCheck {
  current: string;
  latest: string;
  updateAvailable: boolean;
  artifact: string;
  url: string;
}

export async function checkForUpdate(pinned?: string): Promise<UpdateCheck> {
  const release = await lookupRelease(pinned);
  const updateAvailable = pinned ? release.version !== VERSION : compareVersions(release.version, VERSION) > 0;
  return { current: VERSION, latest: release.version, updateAvailable, artifact: release.artifact, url: release.url };
}

export interface UpdateResult {
  updated: boolean;
  from: string;
  to: string;
  path: string;
  backup: string | null;
  file: string | null;
}

/**
 * Download into the binary's own dir (never over the running file), verify the download and the
 * unpacked binary against SHA256SUMS, run its --version, keep the old one as .bak, rename into place.
 */
export async function updateSelf(pinned?: string): Promise<UpdateResult> {
  const self = locateSelfBinary();
  const release = await lookupRelease(pinned);
  const unchanged = {
    updated: false,
    from: VERSION,
    to: release.version,
    path: self.path,
    backup: null,
    file: null,
  };
  if (release.version === VERSION) return unchanged;
  if (!pinned && compareVersions(release.version, VERSION) < 0)
    throw new PreconditionError(
      `the latest release is ${release.version}, older than this protocol (${VERSION}); not going backwards`,
      `to install ${release.version} anyway, run: protocol self:update --version ${release.version}`,
    );
  assertWritableDir(self.dir);
  const staging = (name: string) => join(self.dir, `.protocol-update-${release.version}-${name}`);
  const staged = staging(release.file);
  // Ctrl-C or a supervisor's stop before the rename leaves neither the download nor the unpacked binary.
  const binary = await removingOnSignal([staged, staging(release.artifact)], async () => {
    log.info(`downloading ${release.url}`);
    await downloadFile(release.url, staged);
    await verifySha256(staged, release.file, release.sha256);
    const unpacked = await unpack(staged, release.compression);
    await verifySha256(unpacked, release.artifact, release.artifactSha256);
    chmodSync(unpacked, 0o755);
    const reported = await probeVersion(unpacked);
    if (reported !== release.version) {
      throw new StepFailedError(
        `the downloaded binary says it is ${reported}, not ${release.version}`,
        `nothing was changed; the download is kept at ${unpacked}`,
      );
    }
    return unpacked;
  });
  replaceBinary(self, binary);
  return {
    updated: true,
    from: VERSION,
    to: release.version,
    path: self.path,
    backup: self.backup,
    file: release.file,
  };
}

export interface RollbackResult {
  from: string;
  to: string;
  path: string;
  backup: string;
}

/** Put the .bak back (it must run), keeping the current binary as the new .bak. */
export async function rollbackSelf(): Promise<RollbackResult> {
  const self = locateSelfBinary("self:update --rollback");
  if (!(await Bun.file(self.backup).exists()))
    throw new PreconditionError(
      `there is no previous binary at ${self.backup}`,
      "self:update keeps one when it replaces the binary",
    );
  assertWritableDir(self.dir);
  const to = await probeVersion(self.backup);
  swapWithBackup(self);
  return { from: VERSION, to, path: self.path, backup: self.backup };
}
