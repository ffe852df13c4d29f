import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TARGETS } from "../../src/lib/release/metadata.ts";
import { renderSha256Sums } from "../../src/lib/schema/release.ts";

/** A fake artifact: a shell script that answers --version like protocol does, and runs `rest` otherwise. */
export function fakeArtifact(version: string, rest = "exit 3"): string {
  return `#!/bin/sh\nif [ "$1" = --version ]; then echo ${version}; exit 0; fi\n${rest}\n`;
}

function xz(data: Uint8Array): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "protocol-xz-"));
  try {
    writeFileSync(join(dir, "f"), data);
    const result = Bun.spawnSync(["xz", "-0", "--", join(dir, "f")]);
    if (result.exitCode !== 0) throw new Error(`xz failed: ${result.stderr}`);
    return readFileSync(join(dir, "f.xz"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/**
 * A release host on 127.0.0.1 with GitHub's layout: `/releases/latest/download/<file>` redirects to
 * `/releases/download/v<version>/<file>`. Each release has every target's artifact (raw, .xz, .gz),
 * SHA256SUMS and VERSION; `tamper` changes a file after its checksum was taken.
 */
export class ReleaseServer {
  readonly requests: string[] = [];
  private readonly releases = new Map<string, Map<string, Uint8Array>>();
  private latest: string | null = null;
  private readonly server: ReturnType<typeof Bun.serve>;

  constructor() {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => {
        const path = new URL(request.url).pathname;
        this.requests.push(path);
        const latest = /^\/releases\/latest\/download\/([^/]+)$/.exec(path);
        if (latest && this.latest) return Response.redirect(`${this.base}/download/v${this.latest}/${latest[1]}`, 302);
        const pinned = /^\/releases\/download\/v([^/]+)\/([^/]+)$/.exec(path);
        const body = pinned ? this.releases.get(pinned[1]!)?.get(pinned[2]!) : undefined;
        return body ? new Response(body) : new Response("Not Found", { status: 404 });
      },
    });
  }

  get base(): string {
    return `http://127.0.0.1:${this.server.port}/releases`;
  }

  /** Publish a release whose every artifact is `content` (a fake script by default). */
  publish(version: string, options: { content?: string; latest?: boolean; compressed?: boolean } = {}): void {
    const raw = new TextEncoder().encode(options.content ?? fakeArtifact(version));
    const files = new Map<string, Uint8Array>();
    const packed =
      options.compressed === false
        ? []
        : ([
            ["xz", xz(raw)],
            ["gz", Bun.gzipSync(raw)],
          ] as const);
    for (const { artifact } of TARGETS) {
      files.set(artifact, raw);
      for (const [ext, data] of packed) files.set(`${artifact}.${ext}`, data);
    }
    const sums = new Map([...files].map(([name, data]) => [name, sha256(data)]));
    files.set("SHA256SUMS", new TextEncoder().encode(renderSha256Sums(sums)));
    files.set("VERSION", new TextEncoder().encode(`${version}\n`));
    this.releases.set(version, files);
    if (options.latest !== false) this.latest = version;
  }

  /** Replace a published file's bytes without updating SHA256SUMS (a corrupted or malicious mirror). */
  tamper(version: string, file: string, content = "#!/bin/sh\necho evil\n"): void {
    const name = file === "*" ? null : file;
    const files = this.releases.get(version)!;
    for (const key of [...files.keys()]) {
      if (key === "SHA256SUMS" || key === "VERSION") continue;
      if (name === null || key === name) files.set(key, new TextEncoder().encode(content));
    }
  }

  /** Requests for artifacts (not SHA256SUMS/VERSION), by file name. */
  artifactRequests(): string[] {
    return this.requests
      .filter((p) => p.includes("/download/v") && !/\/(SHA256SUMS|VERSION)$/.test(p))
      .map((p) => p.split("/").pop()!);
  }

  stop(): void {
    this.server.stop(true);
  }
}
