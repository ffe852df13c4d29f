import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { eventually, sh } from "./fixture.ts";

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface GitDaemon extends AsyncDisposable {
  port: number;
  /** git://127.0.0.1:PORT/<path under base> */
  url(path: string): string;
}

/** `git daemon` on 127.0.0.1 serving every repo under `base` (read only unless `push`). */
export async function startGitDaemon(
  base: string,
  options: { push?: boolean; port?: number } = {},
): Promise<GitDaemon> {
  const port = options.port ?? (await freePort());
  const pidFile = join(base, `git-daemon-${port}.pid`);
  const started = await sh([
    "git",
    "daemon",
    `--base-path=${base}`,
    "--export-all",
    "--reuseaddr",
    ...(options.push ? ["--enable=receive-pack"] : []),
    "--listen=127.0.0.1",
    `--port=${port}`,
    `--pid-file=${pidFile}`,
    "--detach",
    base,
  ]);
  if (started.exitCode !== 0) throw new Error(`git daemon did not start: ${started.stderr}`);
  // --detach returns before the daemon has written its pid file, and before it listens.
  await eventually(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "", 5_000);
  const pid = Number(readFileSync(pidFile, "utf8"));
  await eventually(() => sh(["git", "ls-remote", `git://127.0.0.1:${port}/does-not-exist`]).then(() => true), 5_000);
  return {
    port,
    url: (path) => `git://127.0.0.1:${port}/${path}`,
    async [Symbol.asyncDispose]() {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    },
  };
}

export interface Proxy extends AsyncDisposable {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Bytes sent on to clients so far. */
  delivered: number;
}

/**
 * A TCP proxy on 127.0.0.1 in front of `upstreamPort` that slows or stops what flows to the client:
 * `bytesPerSecond` caps the server → client rate (in 10 ms ticks); connections after the first
 * `stallAfter` get nothing back at all (a link that accepts and then goes silent).
 */
export async function startProxy(
  upstreamPort: number,
  options: { bytesPerSecond?: number; stallAfter?: number } = {},
): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<ReturnType<typeof setInterval>>();
  const state = { connections: 0, delivered: 0 };
  const server = net.createServer((client) => {
    state.connections++;
    const stalled = options.stallAfter !== undefined && state.connections > options.stallAfter;
    const upstream = net.connect(upstreamPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    client.pipe(upstream);
    if (stalled) return upstream.resume();
    if (!options.bytesPerSecond) {
      upstream.on("data", (chunk: Buffer) => (state.delivered += chunk.length));
      return upstream.pipe(client);
    }
    const perTick = Math.max(1, Math.round(options.bytesPerSecond / 100));
    let queue = Buffer.alloc(0);
    upstream.on("data", (chunk: Buffer) => {
      queue = Buffer.concat([queue, chunk]);
      if (queue.length > perTick * 100) upstream.pause();
    });
    const timer = setInterval(() => {
      if (queue.length === 0) return upstream.readableEnded ? client.end() : undefined;
      const part = queue.subarray(0, perTick);
      queue = queue.subarray(perTick);
      state.delivered += part.length;
      client.write(part);
      if (queue.length < perTick * 50) upstream.resume();
    }, 10);
    timers.add(timer);
    client.on("close", () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return state.connections;
    },
    get delivered() {
      return state.delivered;
    },
    async [Symbol.asyncDispose]() {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
