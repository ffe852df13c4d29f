/**
 * Answers from elsewhere are capped (issue 11): against a real HTTP server on 127.0.0.1 that
 * sends too much, or never stops sending.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOWNLOAD_DEFAULTS, downloadFile } from "../../src/lib/core/download.ts";
import { discardBody, fetchText, readText } from "../../src/lib/core/http.ts";
import { serveLoopback } from "../helpers/loopback.ts";

const MB = 1024 * 1024;

/** A body that never ends: 64 KB chunks until the reader goes away. Counts what it sent. */
function endless(sent: { bytes: number; cancelled: boolean }): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(97);
  return new ReadableStream({
    pull(controller) {
      sent.bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel() {
      sent.cancelled = true;
    },
  });
}

describe("text from elsewhere (VERSION, SHA256SUMS, registry tokens)", () => {
  test("a small answer is read whole", async () => {
    await using server = serveLoopback(() => new Response("1.2.3\n"));
    expect(await fetchText(`${server.url}/VERSION`)).toBe("1.2.3\n");
  });

  test("a Content-Length over 1 MB is refused before the body is read", async () => {
    await using server = serveLoopback(() => new Response(new Uint8Array(2 * MB).fill(49)));
    await expect(fetchText(`${server.url}/VERSION`)).rejects.toThrow("sent more than 1 MB; refused");
  });

  test("a body that never ends is cut off after 1 MB, not read into memory", async () => {
    const sent = { bytes: 0, cancelled: false };
    await using server = serveLoopback(() => new Response(endless(sent)));
    await expect(fetchText(`${server.url}/releases/download/v1/SHA256SUMS`)).rejects.toThrow(
      /^http:\/\/127\.0\.0\.1:\d+\/… sent more than 1 MB; refused$/,
    );
    expect(sent.bytes).toBeLessThan(64 * MB);
  });

  test("readText takes its own cap", async () => {
    await using server = serveLoopback(() => new Response("x".repeat(5000)));
    const response = await fetch(server.url);
    await expect(readText(response, server.url, 4096)).rejects.toThrow("sent more than 4 KB");
  });
});

describe("downloads and answers that are not read", () => {
  test("a download past its cap is refused, and the partial file is removed and named", async () => {
    const sent = { bytes: 0, cancelled: false };
    await using server = serveLoopback(() => new Response(endless(sent)));
    const dir = mkdtempSync(join(tmpdir(), "protocol-dl-"));
    try {
      const path = join(dir, "protocol.new");
      const limits = { ...DOWNLOAD_DEFAULTS, maxBytes: 2 * MB };
      await expect(downloadFile(`${server.url}/protocol-linux-x64`, path, limits)).rejects.toThrow(
        `sent more than 2 MB; refused (the partial download ${path} was removed)`,
      );
      expect(existsSync(path)).toBe(false);
      expect(sent.bytes).toBeLessThan(64 * MB);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("discardBody closes an endless answer without reading it", async () => {
    const sent = { bytes: 0, cancelled: false };
    await using server = serveLoopback(() => new Response(endless(sent)));
    const response = await fetch(server.url);
    await discardBody(response);
    expect(response.status).toBe(200);
    expect(sent.bytes).toBeLessThan(16 * MB);
  });
});
