import { closeSync, openSync, writeSync } from "node:fs";
import { FetchError, ofetch } from "ofetch";
import { NetworkError } from "./errors.ts";

/** Metadata is small: a slow answer is a dead host. */
const TEXT_TIMEOUT_MS = 30_000;
/** A download may be slow on a small VPS, but not silent: no bytes for this long aborts it. */
const IDLE_TIMEOUT_MS = 60_000;

function asNetworkError(url: string, error: unknown): NetworkError {
  if (error instanceof NetworkError) return error;
  const status = error instanceof FetchError ? error.statusCode : undefined;
  if (status === 404)
    return new NetworkError(
      `${url} was not found (HTTP 404)`,
      "check the version, or PROTOCOL_DOWNLOAD_URL if it is set",
    );
  const reason = status ? `HTTP ${status}` : ((error as Error)?.message ?? String(error));
  return new NetworkError(
    `could not download ${url}: ${reason}`,
    "check the network and retry; PROTOCOL_DOWNLOAD_URL overrides the release host",
  );
}

/** GET a small text document (VERSION, SHA256SUMS), following redirects as GitHub's release URLs need. */
export async function fetchText(url: string): Promise<string> {
  try {
    return await ofetch(url, { responseType: "text", timeout: TEXT_TIMEOUT_MS, retry: 2, retryDelay: 500 });
  } catch (error) {
    throw asNetworkError(url, error);
  }
}

/** Stream a file to `path` (created 0600, truncated); returns the bytes written. */
export async function downloadFile(url: string, path: string): Promise<number> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000}s`)), IDLE_TIMEOUT_MS);
  };
  const fd = openSync(path, "w", 0o600);
  let bytes = 0;
  try {
    arm();
    const body = await ofetch(url, { responseType: "stream", retry: 2, retryDelay: 500, signal: abort.signal });
    for await (const chunk of body as ReadableStream<Uint8Array>) {
      arm();
      for (let offset = 0; offset < chunk.byteLength; ) offset += writeSync(fd, chunk, offset);
      bytes += chunk.byteLength;
    }
    return bytes;
  } catch (error) {
    throw asNetworkError(url, abort.signal.aborted ? abort.signal.reason : error);
  } finally {
    clearTimeout(timer);
    closeSync(fd);
  }
}
