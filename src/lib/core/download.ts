/**
 * A release binary streamed to a file, within four bounds (issue 29): a size cap, the free space of
 * the file system it lands on (a reserve is always left: the node's app and logs live there too),
 * an idle limit and a total time limit. Whatever stops it, the partial file is removed and named.
 */
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { ofetch } from "ofetch";
import { freeBytes, mb } from "./disk.ts";
import { DiskFullError, isDiskFull, NetworkError, ProtocolError } from "./errors.ts";
import { asNetworkError, capped, discardBody, TooLargeError } from "./http.ts";
import { type Env, nodeEnv } from "./node-env.ts";

export interface DownloadLimits {
  /** PROTOCOL_DOWNLOAD_MAX_BYTES: a release binary is ~110 MB; a server that sends more is not a release server. */
  maxBytes: number;
  /** PROTOCOL_DOWNLOAD_IDLE_TIMEOUT (seconds): a download may be slow on a small VPS, but not silent. */
  idleMs: number;
  /** PROTOCOL_DOWNLOAD_TIMEOUT (seconds): the whole download, however it trickles. */
  totalMs: number;
  /** Left free on the file system whatever the download says. */
  reserveBytes: number;
}

const MB = 1024 * 1024;
export const DOWNLOAD_DEFAULTS: DownloadLimits = {
  maxBytes: 512 * MB,
  idleMs: 60_000,
  totalMs: 900_000,
  reserveBytes: 16 * MB,
};
/** How often a body of unannounced length has the free space checked again. */
const ROOM_CHECK_BYTES = MB;

const positive = (value: string | undefined, fallback: number) => {
  const number = Number(value);
  return Number.isFinite(number) && number > 0 ? number : fallback;
};

export function downloadLimits(env: Env = nodeEnv()): DownloadLimits {
  return {
    maxBytes: Math.floor(positive(env.PROTOCOL_DOWNLOAD_MAX_BYTES, DOWNLOAD_DEFAULTS.maxBytes)),
    idleMs: positive(env.PROTOCOL_DOWNLOAD_IDLE_TIMEOUT, DOWNLOAD_DEFAULTS.idleMs / 1000) * 1000,
    totalMs: positive(env.PROTOCOL_DOWNLOAD_TIMEOUT, DOWNLOAD_DEFAULTS.totalMs / 1000) * 1000,
    reserveBytes: DOWNLOAD_DEFAULTS.reserveBytes,
  };
}

export const ROOM_HINT = "free space there and retry; nothing was changed";
const TOO_LARGE_HINT =
  "the release host sends more than a release; check PROTOCOL_DOWNLOAD_URL (PROTOCOL_DOWNLOAD_MAX_BYTES sets the cap)";

/** Refuse when writing `need` more bytes into `dir` would leave less than the reserve free. */
export async function assertRoom(dir: string, need: number, limits: DownloadLimits, what: string): Promise<void> {
  const have = await freeBytes(dir);
  if (have - need >= limits.reserveBytes) return;
  throw new DiskFullError(
    `not enough disk space for ${what}: ${dir} has ${mb(have)} MB free and keeps ${mb(limits.reserveBytes)} MB free`,
    ROOM_HINT,
  );
}

function failure(error: unknown, url: string, path: string, aborted: AbortSignal): ProtocolError {
  if (aborted.aborted) return aborted.reason as NetworkError;
  if (error instanceof ProtocolError) return error;
  if (isDiskFull(error)) return new DiskFullError(`no space left on the file system of ${dirname(path)}`, ROOM_HINT);
  return asNetworkError(url, error);
}

/**
 * Stream `url` to `path` (created 0600, truncated) within `limits`; returns the bytes written. The
 * announced size (Content-Length) is checked against the cap and the free space before anything is
 * written, and the free space again every MB as the body arrives. On any failure `path` is removed.
 */
export async function downloadFile(url: string, path: string, limits = downloadLimits()): Promise<number> {
  const abort = new AbortController();
  const seconds = (ms: number) => `${ms / 1000}s`;
  let idle: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(
      () =>
        abort.abort(
          new NetworkError(
            `no data from ${url} for ${seconds(limits.idleMs)}`,
            "check the network and retry; PROTOCOL_DOWNLOAD_IDLE_TIMEOUT (seconds) sets how long a silent download may wait",
          ),
        ),
      limits.idleMs,
    );
  };
  const total = setTimeout(
    () =>
      abort.abort(
        new NetworkError(
          `${url} did not finish downloading in ${seconds(limits.totalMs)}`,
          "check the network and retry; on a slow link raise PROTOCOL_DOWNLOAD_TIMEOUT (seconds)",
        ),
      ),
    limits.totalMs,
  );
  let fd: number | null = null;
  try {
    arm();
    const response = await ofetch.raw(url, { responseType: "stream", retry: 2, retryDelay: 500, signal: abort.signal });
    const announced = Number(response.headers.get("content-length") ?? Number.NaN);
    if (announced > limits.maxBytes) {
      await discardBody(response);
      throw new TooLargeError(url, limits.maxBytes, TOO_LARGE_HINT);
    }
    const dir = dirname(path);
    const known = Number.isFinite(announced) ? announced : 0;
    await assertRoom(dir, known, limits, known ? `${url} (${mb(known)} MB)` : url);
    fd = openSync(path, "w", 0o600);
    let bytes = 0;
    let checked = 0;
    for await (const chunk of capped(response.body ?? new ReadableStream(), limits.maxBytes, url, TOO_LARGE_HINT)) {
      arm();
      for (let offset = 0; offset < chunk.byteLength; ) offset += writeSync(fd, chunk, offset);
      bytes += chunk.byteLength;
      // An announced size was checked whole; a body that goes past it, or never said, is checked as it grows.
      if (bytes > known && bytes - checked >= ROOM_CHECK_BYTES) {
        checked = bytes;
        await assertRoom(dir, 0, limits, `${url} (more than ${mb(bytes)} MB so far)`);
      }
    }
    return bytes;
  } catch (error) {
    const reported = failure(error, url, path, abort.signal);
    if (fd !== null) {
      closeSync(fd);
      fd = null;
      rmSync(path, { force: true });
      reported.message += ` (the partial download ${path} was removed)`;
    }
    throw reported;
  } finally {
    clearTimeout(idle);
    clearTimeout(total);
    if (fd !== null) closeSync(fd);
  }
}
