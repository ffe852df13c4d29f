import { execFileSync } from "node:child_process";
import { join } from "node:path";

export interface GitHttpRequest {
  /** The repo path asked for, e.g. `/app.git/info/refs`. */
  path: string;
  /** The Authorization header as received, or null. */
  authorization: string | null;
  /** `?service=` of a refs request: git-upload-pack (ls-remote, fetch) or git-receive-pack (push). */
  service: string | null;
}

export interface GitHttpServer extends AsyncDisposable {
  /** http://127.0.0.1:PORT/<path under base> */
  url(path: string): string;
  /** Every request so far, with the credentials it carried: what each remote received. */
  requests: GitHttpRequest[];
  /** The Authorization headers one repo received (by its path under base), without repeats. */
  credentialsFor(repo: string): (string | null)[];
  /**
   * How many times a client has asked for this repo's refs (one per ls-remote, fetch or clone):
   * a loop's polls, counted. "Nothing else happened" is checked after this grew, never by sleeping.
   */
  refsRequests(repo: string): number;
}

const httpBackend = join(execFileSync("git", ["--exec-path"], { encoding: "utf8" }).trim(), "git-http-backend");

/**
 * A logging smart-HTTP git server on 127.0.0.1: Bun.serve in front of the real `git http-backend`
 * (CGI), serving every repo under `base` read-only, recording which Authorization header each
 * request carried. Nothing is checked: it only watches where credentials go.
 */
export function startGitHttp(base: string): GitHttpServer {
  const requests: GitHttpRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      requests.push({
        path: url.pathname,
        authorization: request.headers.get("authorization"),
        service: url.searchParams.get("service"),
      });
      const body = new Uint8Array(await request.arrayBuffer());
      const cgi = Bun.spawn([httpBackend], {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          GIT_PROJECT_ROOT: base,
          GIT_HTTP_EXPORT_ALL: "1",
          REQUEST_METHOD: request.method,
          PATH_INFO: decodeURIComponent(url.pathname),
          QUERY_STRING: url.search.slice(1),
          CONTENT_TYPE: request.headers.get("content-type") ?? "",
          CONTENT_LENGTH: String(body.length),
          HTTP_CONTENT_ENCODING: request.headers.get("content-encoding") ?? "",
          GIT_PROTOCOL: request.headers.get("git-protocol") ?? "",
        },
        stdin: body,
        stdout: "pipe",
        stderr: "ignore",
      });
      const output = new Uint8Array(await new Response(cgi.stdout).arrayBuffer());
      await cgi.exited;
      const split = Buffer.from(output).indexOf("\r\n\r\n");
      const head = Buffer.from(output.subarray(0, split)).toString("latin1");
      const headers = new Headers();
      let status = 200;
      for (const line of head.split("\r\n")) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else if (name) headers.append(name, value);
      }
      return new Response(output.subarray(split + 4), { status, headers });
    },
  });
  return {
    url: (path) => `http://127.0.0.1:${server.port}/${path}`,
    requests,
    credentialsFor(repo) {
      const prefix = `/${repo}/`;
      return [...new Set(requests.filter((r) => r.path.startsWith(prefix)).map((r) => r.authorization))];
    },
    refsRequests(repo) {
      return requests.filter((r) => r.path === `/${repo}/info/refs`).length;
    },
    async [Symbol.asyncDispose]() {
      server.stop(true);
    },
  };
}
