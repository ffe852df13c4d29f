import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TARGETS } from "../../src/lib/release/metadata.ts";
import { publicKeyLine, type SecretKey, signData } from "../../src/lib/release/minisign.ts";
import { trustedComment } from "../../src/lib/release/signed-sums.ts";
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

/** A fresh minisign key (as `minisign -G -W` makes one), from WebCrypto: each test run signs with its own. */
export async function makeSigningKey(): Promise<SecretKey> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ])) as unknown as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return {
    keyId: crypto.getRandomValues(new Uint8Array(8)),
    seed: pkcs8.slice(-32),
    publicKey: new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)),
  };
}

/**
 * A release host on 127.0.0.1 with GitHub's layout: `/releases/latest/download/<file>` redirects to
 * `/releases/download/v<version>/<file>`. Each release has every target's artifact (raw, .xz, .gz),
 * SHA256SUMS signed with the server's release key (SHA256SUMS.minisig) and VERSION; `tamper`
 * changes a file after its checksum was taken, `resign` / `unsign` change the signature. Create it
 * with `await ReleaseServer.start()`; `publicKey` is what PROTOCOL_MINISIGN_PUBKEY gets.
 */
export class ReleaseServer {
  readonly requests: string[] = [];
  private readonly releases = new Map<string, Map<string, Uint8Array>>();
  private latest: string | null = null;
  private readonly redirects = new Map<string, string>();
  private readonly server: ReturnType<typeof Bun.serve>;

  static async start(): Promise<ReleaseServer> {
    return new ReleaseServer(await makeSigningKey());
  }

  get publicKey(): string {
    return publicKeyLine(this.key);
  }

  private constructor(private readonly key: SecretKey) {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => {
        const path = new URL(request.url).pathname;
        this.requests.push(path);
        const latest = /^\/releases\/latest\/download\/([^/]+)$/.exec(path);
        if (latest && this.latest) return Response.redirect(`${this.base}/download/v${this.latest}/${latest[1]}`, 302);
        const pinned = /^\/releases\/download\/v([^/]+)\/([^/]+)$/.exec(path);
        const elsewhere = pinned && pinned[2]!.startsWith("protocol-") && this.redirects.get(pinned[1]!);
        if (elsewhere) return Response.redirect(`${elsewhere}/${pinned[2]}`, 302);
        const body = pinned ? this.releases.get(pinned[1]!)?.get(pinned[2]!) : undefined;
        return body ? new Response(body) : new Response("Not Found", { status: 404 });
      },
    });
  }

  get base(): string {
    return `http://127.0.0.1:${this.server.port}/releases`;
  }

  /** Publish a release whose every artifact is `content` (a fake script by default), signed. */
  async publish(
    version: string,
    options: { content?: string; latest?: boolean; compressed?: boolean } = {},
  ): Promise<void> {
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
    const sumsFile = new TextEncoder().encode(renderSha256Sums(sums));
    files.set("SHA256SUMS", sumsFile);
    files.set(
      "SHA256SUMS.minisig",
      new TextEncoder().encode(await signData(sumsFile, this.key, trustedComment(version))),
    );
    files.set("VERSION", new TextEncoder().encode(`${version}\n`));
    this.releases.set(version, files);
    if (options.latest !== false) this.latest = version;
  }

  /**
   * Replace the binaries and SHA256SUMS together and sign the new SHA256SUMS with `key` (another
   * key: whoever took the release host), or leave the old signature (null): a malicious mirror.
   */
  async replaceRelease(version: string, content: string, key: SecretKey | null): Promise<void> {
    const files = this.releases.get(version)!;
    const data = new TextEncoder().encode(content);
    for (const name of [...files.keys()])
      if (name.startsWith("protocol-") && !name.endsWith(".xz") && !name.endsWith(".gz")) files.set(name, data);
    for (const name of [...files.keys()]) if (name.endsWith(".xz") || name.endsWith(".gz")) files.delete(name);
    const sums = new Map(
      [...files].filter(([name]) => name.startsWith("protocol-")).map(([name, d]) => [name, sha256(d)]),
    );
    const sumsFile = new TextEncoder().encode(renderSha256Sums(sums));
    files.set("SHA256SUMS", sumsFile);
    if (key)
      files.set("SHA256SUMS.minisig", new TextEncoder().encode(await signData(sumsFile, key, trustedComment(version))));
  }

  /** Send requests for a release's binaries to `host` (a HostileHost's url), as GitHub sends them to its object store. */
  redirect(version: string, host: string): void {
    this.redirects.set(version, host);
  }

  /** Remove a release's signature (an unsigned release). */
  unsign(version: string): void {
    this.releases.get(version)!.delete("SHA256SUMS.minisig");
  }

  /** Serve another release's signed SHA256SUMS under `version` (a replayed old file). */
  replay(version: string, from: string): void {
    const files = this.releases.get(version)!;
    const old = this.releases.get(from)!;
    files.set("SHA256SUMS", old.get("SHA256SUMS")!);
    files.set("SHA256SUMS.minisig", old.get("SHA256SUMS.minisig")!);
  }

  /**
   * Serve release `from` whole under `version` (binaries, SHA256SUMS, its signature) with the
   * signature's trusted comment rewritten to name `version`: an old release dressed as the new one.
   * Both Ed25519 signatures are kept, so only the one over the trusted comment can tell.
   */
  downgrade(version: string, from: string): void {
    const old = this.releases.get(from)!;
    const files = new Map(old);
    const signature = new TextDecoder().decode(old.get("SHA256SUMS.minisig")!).split("\n");
    signature[2] = `trusted comment: ${trustedComment(version)}`;
    files.set("SHA256SUMS.minisig", new TextEncoder().encode(signature.join("\n")));
    files.set("VERSION", new TextEncoder().encode(`${version}\n`));
    this.releases.set(version, files);
  }

  /** Replace a published file's bytes without updating SHA256SUMS (a corrupted or malicious mirror). */
  tamper(version: string, file: string, content = "#!/bin/sh\necho evil\n"): void {
    const name = file === "*" ? null : file;
    const files = this.releases.get(version)!;
    for (const key of [...files.keys()]) {
      if (key === "SHA256SUMS" || key === "SHA256SUMS.minisig" || key === "VERSION") continue;
      if (name === null || key === name) files.set(key, new TextEncoder().encode(content));
    }
  }

  /** Requests for artifacts (not SHA256SUMS/VERSION), by file name. */
  artifactRequests(): string[] {
    return this.requests
      .filter((p) => p.includes("/download/v") && !/\/(SHA256SUMS|SHA256SUMS\.minisig|VERSION)$/.test(p))
      .map((p) => p.split("/").pop()!);
  }

  stop(): void {
    this.server.stop(true);
  }
}
