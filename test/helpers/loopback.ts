/** A small HTTP server on 127.0.0.1 for tests: health endpoints, webhooks, a registry. */
export interface Loopback extends AsyncDisposable {
  url: string;
  requests: { method: string; path: string; headers: Headers; body: string }[];
}

export function serveLoopback(handler: (request: Request, url: URL) => Response | Promise<Response>): Loopback {
  const requests: Loopback["requests"] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      requests.push({
        method: request.method,
        path: url.pathname + url.search,
        headers: request.headers,
        body: await request.clone().text(),
      });
      return handler(request, url);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    async [Symbol.asyncDispose]() {
      await server.stop(true);
    },
  };
}
