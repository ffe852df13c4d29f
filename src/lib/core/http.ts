import { FetchError, ofetch } from "ofetch";
import { NetworkError, NotFoundError } from "./errors.ts";
import { redactUrlPath } from "./validate.ts";

/** Metadata is small: a slow answer is a dead host. */
const TEXT_TIMEOUT_MS = 30_000;

export function asNetworkError(url: string, error: unknown): NetworkError {
  if (error instanceof NetworkError) return error;
  const status = error instanceof FetchError ? error.statusCode : undefined;
  if (status === 404)
    return new NotFoundError(
      `${url} was not found (HTTP 404)`,
      "check the version, or PROTOCOL_DOWNLOAD_URL if it is set",
    );
  const reason = status ? `HTTP ${status}` : ((error as Error)?.message ?? String(error));
  return new NetworkError(
    `could not download ${url}: ${reason}`,
    "check the network and retry; PROTOCOL_DOWNLOAD_URL overrides the release host",
  );
}

/** A text answer from elsewhere (VERSION, SHA256SUMS, a registry token) is small: past this it is refused unread. */
export const MAX_TEXT_BYTES = 1024 * 1024;
export class TooLargeError extends NetworkError {
  constructor(
    url: string,
    maxBytes: number,
    hint = "check the URL: it should serve a small file (PROTOCOL_DOWNLOAD_URL overrides the release host)",
  ) {
    super(`${redactUrlPath(url)} sent more than ${formatBytes(maxBytes)}; refused`, hint);
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MB` : `${bytes / 1024} KB`;
}

/** Chunks of a body, throwing TooLargeError (and cancelling it) once more than maxBytes arrived. */
export async function* capped(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  url: string,
  hint?: string,
): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      bytes += value.byteLength;
      if (bytes > maxBytes) throw new TooLargeError(url, maxBytes, hint);
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** A body as text, read up to maxBytes (a Content-Length over it is refused before reading). */
export async function readText(response: Response, url: string, maxBytes = MAX_TEXT_BYTES): Promise<string> {
  if (Number(response.headers.get("content-length") ?? 0) > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new TooLargeError(url, maxBytes);
  }
  if (!response.body) return "";
  const chunks: Uint8Array[] = [];
  for await (const chunk of capped(response.body, maxBytes, url)) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** Close a response without reading its body: only the status was wanted. */
export async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/**
 * GET a small text document (VERSION, SHA256SUMS), following redirects as GitHub's release URLs
 * need. The time limit covers the body too (ofetch's own timeout stops at the headers): a server
 * that drips bytes forever is cut off.
 */
export async function fetchText(url: string): Promise<string> {
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new Error(`no complete answer in ${TEXT_TIMEOUT_MS / 1000}s`)),
    TEXT_TIMEOUT_MS,
  );
  try {
    const response = await ofetch.raw(url, { responseType: "stream", retry: 2, retryDelay: 500, signal: abort.signal });
    return await readText(response, url);
  } catch (error) {
    throw asNetworkError(url, abort.signal.aborted ? abort.signal.reason : error);
  } finally {
    clearTimeout(timer);
  }
}
