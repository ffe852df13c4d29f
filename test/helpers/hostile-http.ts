/**
 * A release file host that misbehaves, on 127.0.0.1, written at the TCP level so it can say what
 * Bun.serve would correct (a Content-Length it never sends). ReleaseServer.redirect points a
 * release's binaries here, as GitHub points them at its object store.
 *   forever   200, no length, zeros until the client goes away
 *   drip      200, no length, one byte every `everyMs`, for ever
 *   stall     200, no length, `bytes` bytes, then silence with the connection open
 *   announce  200, Content-Length `bytes`, then zeros up to it
 * Each connection is closed after 20 s or 600 MB whatever happens, so a client with no bounds (the
 * code before issue 29) ends too, and its test fails instead of hanging or filling the disk.
 */
import type { ReleaseServer } from "./release-server.ts";

export type Misbehaviour =
  | { kind: "forever" }
  | { kind: "drip"; everyMs: number }
  | { kind: "stall"; bytes: number }
  | { kind: "announce"; bytes: number };

interface Connection {
  timer?: ReturnType<typeof setInterval>;
  safety?: ReturnType<typeof setTimeout>;
  pump?: () => void;
  closed: boolean;
}

const CHUNK = new Uint8Array(64 * 1024);
const SAFETY_MS = 20_000;
const SAFETY_BYTES = 600 * 1024 * 1024;

export class HostileHost {
  /** Bytes the host managed to send, over all connections. */
  sent = 0;
  readonly requests: string[] = [];
  private readonly listener: Bun.TCPSocketListener<Connection>;

  constructor(private readonly behaviour: Misbehaviour) {
    this.listener = Bun.listen<Connection>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (socket) => {
          socket.data = { closed: false };
        },
        data: (socket, data) => {
          if (socket.data.pump || socket.data.timer) return;
          this.requests.push(new TextDecoder().decode(data).split(" ")[1] ?? "");
          this.answer(socket);
        },
        drain: (socket) => socket.data.pump?.(),
        close: (socket) => {
          socket.data.closed = true;
          clearInterval(socket.data.timer);
          clearTimeout(socket.data.safety);
        },
      },
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.listener.port}`;
  }

  private answer(socket: Bun.Socket<Connection>): void {
    const b = this.behaviour;
    const length = b.kind === "announce" ? `Content-Length: ${b.bytes}\r\n` : "";
    socket.data.safety = setTimeout(() => socket.end(), SAFETY_MS);
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n${length}Connection: close\r\n\r\n`);
    if (b.kind === "drip") {
      socket.data.timer = setInterval(() => {
        if (!socket.data.closed) this.sent += socket.write("x");
      }, b.everyMs);
      return;
    }
    let left = b.kind === "forever" ? SAFETY_BYTES : b.bytes;
    socket.data.pump = () => {
      while (!socket.data.closed && left > 0) {
        const want = Math.min(CHUNK.byteLength, left);
        const written = socket.write(CHUNK.subarray(0, want));
        this.sent += written;
        left -= written;
        if (written < want) return; // the socket is full: drain() calls again
      }
      if (left <= 0 && b.kind !== "stall") socket.end();
    };
    socket.data.pump();
  }

  stop(): void {
    this.listener.stop(true);
  }
}

/**
 * Publish `version` (not as latest) on `server`, its binaries served by a host that misbehaves so;
 * the host is added to `hosts`, for the test to stop.
 */
export async function publishHostile(
  server: ReleaseServer,
  hosts: HostileHost[],
  version: string,
  behaviour: Misbehaviour,
): Promise<HostileHost> {
  await server.publish(version, { latest: false });
  const host = new HostileHost(behaviour);
  hosts.push(host);
  server.redirect(version, host.url);
  return host;
}
