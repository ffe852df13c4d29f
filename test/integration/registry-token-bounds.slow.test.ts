/**
 * Issue 29, item 1, for the registry's token endpoint: like a credential helper that prints a space
 * every second, a token server that sends its headers and then drips its body must be given up at a
 * total limit, or the loop's image check (and doctor's) waits for ever. A real HTTP server on
 * loopback (a registry whose 401 names it as the token realm).
 */
import { expect, test } from "bun:test";
import { parseImageRef } from "../../src/lib/docker/parse/image-ref.ts";
import { fetchManifestDigest } from "../../src/lib/docker/registry.ts";

test("a token endpoint that drips a space every second is given up within the request timeout", async () => {
  const drips: ReturnType<typeof setInterval>[] = [];
  let port = 0;
  const server: ReturnType<typeof Bun.serve> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch(request): Response {
      if (new URL(request.url).pathname.startsWith("/v2/"))
        return new Response(null, {
          status: 401,
          headers: { "WWW-Authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="reg"` },
        });
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("{"));
          drips.push(setInterval(() => controller.enqueue(new TextEncoder().encode(" ")), 1_000));
        },
      });
      return new Response(body, { headers: { "Content-Type": "application/json" } });
    },
  });
  port = server.port ?? 0;
  const started = Date.now();
  try {
    const outcome = await Promise.race([
      fetchManifestDigest(parseImageRef(`127.0.0.1:${server.port}/app:1`), null).then(
        () => "answered",
        (error: Error) => String(error),
      ),
      Bun.sleep(40_000).then(() => "still waiting after 40s"),
    ]);
    expect(outcome).toContain("could not get a registry token");
    expect(Date.now() - started).toBeLessThan(30_000);
  } finally {
    for (const drip of drips) clearInterval(drip);
    server.stop(true);
  }
}, 60_000);
