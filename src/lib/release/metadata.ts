import { existsSync, readdirSync, readFileSync } from "node:fs";
import pkg from "../../../package.json" with { type: "json" };

/**
 * The GitHub repository's web address from package.json's `repository` (npm's forms: an object with
 * `url`, `git+https://github.com/o/r.git`, `github:o/r`, `o/r`). Pure; throws on anything else.
 */
export function repositoryWebUrl(repository: string | { url: string }): string {
  const spec = typeof repository === "string" ? repository : repository.url;
  const match =
    /^(?:git\+)?https:\/\/github\.com\/([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(spec) ??
    /^(?:github:)?([\w.-]+)\/([\w.-]+)$/.exec(spec);
  if (!match) throw new Error(`package.json repository ${JSON.stringify(spec)} is not a GitHub repository`);
  return `https://github.com/${match[1]}/${match[2]}`;
}

/**
 * Where releases live and which file of a release fits this machine. The layout is GitHub's:
 * `<base>/latest/download/<file>` for the newest release, `<base>/download/v<version>/<file>` for a
 * pinned one. The base comes from one place, package.json's `repository` (bundled into the binary);
 * scripts/build.ts writes it into the released install.sh, the release workflow publishes there,
 * and a test holds the repo's install.sh and the README to it, so a fork changes it in one place.
 */
export const DEFAULT_DOWNLOAD_URL: string = `${repositoryWebUrl(pkg.repository)}/releases`;

/** install.sh with its default release host set to DEFAULT_DOWNLOAD_URL: what scripts/build.ts ships. */
export function withReleaseUrl(script: string, releases = DEFAULT_DOWNLOAD_URL): string {
  return script.replace(/^DEFAULT_DOWNLOAD_URL=.*$/m, `DEFAULT_DOWNLOAD_URL="${releases}"`);
}

/** Every build target: Bun's target name and the artifact it becomes (`protocol-<os>-<arch>[-variant]`). */
export const TARGETS = [
  { bun: "bun-linux-x64", artifact: "protocol-linux-x64" },
  { bun: "bun-linux-x64-baseline", artifact: "protocol-linux-x64-baseline" },
  { bun: "bun-linux-arm64", artifact: "protocol-linux-arm64" },
  { bun: "bun-linux-x64-musl", artifact: "protocol-linux-x64-musl" },
  { bun: "bun-linux-arm64-musl", artifact: "protocol-linux-arm64-musl" },
  { bun: "bun-darwin-x64", artifact: "protocol-darwin-x64" },
  { bun: "bun-darwin-arm64", artifact: "protocol-darwin-arm64" },
] as const;

export interface Platform {
  /** process.platform: linux, darwin, … */
  os: string;
  /** process.arch: x64, arm64, … */
  arch: string;
  musl: boolean;
  avx2: boolean;
}

/** The artifact for a machine, or null where no build exists (install.sh's table, in TypeScript). */
export function artifactName({ os, arch, musl, avx2 }: Platform): string | null {
  if (arch !== "x64" && arch !== "arm64") return null;
  if (os === "darwin") return `protocol-darwin-${arch}`;
  if (os !== "linux") return null;
  // There is no x64 musl baseline build: Alpine on a pre-AVX2 CPU gets the musl build.
  if (musl) return `protocol-linux-${arch}-musl`;
  return arch === "x64" && !avx2 ? "protocol-linux-x64-baseline" : `protocol-linux-${arch}`;
}

function hasMuslLoader(): boolean {
  try {
    return readdirSync("/lib").some((name) => name.startsWith("ld-musl-"));
  } catch {
    return false;
  }
}

function hasAvx2(): boolean {
  try {
    return /^flags\s*:.*\bavx2\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return false;
  }
}

/** This machine, as install.sh sees it: uname, a musl loader, AVX2 in /proc/cpuinfo. */
export function detectPlatform(): Platform {
  const linux = process.platform === "linux";
  return {
    os: process.platform,
    arch: process.arch,
    musl: linux && (existsSync("/etc/alpine-release") || hasMuslLoader()),
    avx2: linux ? hasAvx2() : true,
  };
}

/** The URL of one file of a release: the newest when `version` is null. */
export function releaseFileUrl(base: string, version: string | null, file: string): string {
  const root = base.replace(/\/+$/, "");
  return version ? `${root}/download/v${version.replace(/^v/, "")}/${file}` : `${root}/latest/download/${file}`;
}

export function downloadBase(env: Record<string, string | undefined> = process.env): string {
  return env.PROTOCOL_DOWNLOAD_URL || DEFAULT_DOWNLOAD_URL;
}

export type Compression = "xz" | "gz" | "none";

/** `.xz` when xz can unpack it, else `.gz` (unpacked in-process), else the raw file; only what SHA256SUMS lists. */
export function pickCompression(artifact: string, sums: ReadonlyMap<string, string>, hasXz: boolean): Compression {
  if (hasXz && sums.has(`${artifact}.xz`)) return "xz";
  if (sums.has(`${artifact}.gz`)) return "gz";
  return "none";
}

export function compressedName(artifact: string, compression: Compression): string {
  return compression === "none" ? artifact : `${artifact}.${compression}`;
}

/** Semver order (1.10.0 > 1.9.2, 1.0.0-rc.10 > 1.0.0-rc.9, 0.1.0-dev < 0.1.0); <0, 0 or >0. */
export function compareVersions(a: string, b: string): number {
  return Bun.semver.order(a.replace(/^v/, ""), b.replace(/^v/, ""));
}
