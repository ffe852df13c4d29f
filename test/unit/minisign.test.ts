/** Issue 16: minisign signatures in protocol's own code, checked against the real minisign tool both ways. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  parsePublicKey,
  parseSecretKey,
  parseSignature,
  publicKeyLine,
  SignatureError,
  signData,
  verifySignature,
} from "../../src/lib/release/minisign.ts";
import { releasePublicKey, withReleaseKey } from "../../src/lib/release/release-key.ts";
import { sh } from "../helpers/fixture.ts";
import { testNeeding } from "../helpers/needs.ts";
import { makeSigningKey } from "../helpers/release-server.ts";

const dir = mkdtempSync(join(tmpdir(), "protocol-minisign-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const withMinisign = testNeeding(Bun.which("minisign") ? null : "minisign is not installed (apt-get install minisign)");
const bytes = (text: string) => new TextEncoder().encode(text);

describe("minisign in-process", () => {
  test("what it signs, it verifies; another file, another key or a changed trusted comment is refused, each saying why", async () => {
    const key = await makeSigningKey();
    const pub = parsePublicKey(publicKeyLine(key));
    const signature = await signData(bytes("sums\n"), key, "protocol 1.0.0 SHA256SUMS");
    expect(await verifySignature(bytes("sums\n"), signature, pub)).toBe("protocol 1.0.0 SHA256SUMS");
    await expect(verifySignature(bytes("other\n"), signature, pub)).rejects.toThrow("does not match the file");
    const other = parsePublicKey(publicKeyLine(await makeSigningKey()));
    await expect(verifySignature(bytes("sums\n"), signature, other)).rejects.toThrow(
      /signed by key [0-9A-F]{16}, not by the release key/,
    );
    const forged = signature.replace("protocol 1.0.0", "protocol 9.9.9");
    await expect(verifySignature(bytes("sums\n"), forged, pub)).rejects.toThrow("the comment was changed");
  });

  test("garbage is a SignatureError, never a crash", () => {
    for (const text of [
      "",
      "x",
      "untrusted comment: a\n!!!\ntrusted comment: b\nAAAA\n",
      "untrusted comment: a\nRWQ=\ntrusted comment: b\nAAAA\n",
    ])
      expect(() => parseSignature(text)).toThrow(SignatureError);
    for (const key of ["", "RWQ=", "not base64!", Buffer.alloc(42).toString("base64")])
      expect(() => parsePublicKey(key)).toThrow(SignatureError);
  });

  test("a password-protected secret key is refused with the way out", async () => {
    const key = await makeSigningKey();
    const plain = Buffer.concat([
      Buffer.from("Ed"),
      Buffer.alloc(2),
      Buffer.from("B2"),
      Buffer.alloc(48),
      Buffer.from(key.keyId),
      Buffer.from(key.seed),
      Buffer.from(key.publicKey),
      Buffer.alloc(32),
    ]);
    expect(parseSecretKey(plain.toString("base64")).seed).toEqual(key.seed);
    const locked = Buffer.from(plain);
    locked.write("Sc", 2);
    expect(() => parseSecretKey(locked.toString("base64"))).toThrow(
      "password-protected; make the release key with minisign -G -W",
    );
  });

  test("the release key: PROTOCOL_MINISIGN_PUBKEY first, a bad one is a config error, none says how to get one", async () => {
    const line = publicKeyLine(await makeSigningKey());
    expect(releasePublicKey({ PROTOCOL_MINISIGN_PUBKEY: line }).keyId).toMatch(/^[0-9A-F]{16}$/);
    expect(() => releasePublicKey({ PROTOCOL_MINISIGN_PUBKEY: "nonsense" })).toThrow("PROTOCOL_MINISIGN_PUBKEY");
    expect(() => releasePublicKey({})).toThrow("has no release key");
    expect(withReleaseKey('DEFAULT_MINISIGN_PUBKEY=""\nrest\n', line)).toBe(
      `DEFAULT_MINISIGN_PUBKEY="${line}"\nrest\n`,
    );
  });
});

describe("interop with the real minisign", () => {
  withMinisign(
    "a signature minisign made verifies here, and one made here verifies with minisign (prehashed and legacy)",
    async () => {
      const pubFile = join(dir, "k.pub");
      const keyFile = join(dir, "k.key");
      expect((await sh(["minisign", "-G", "-W", "-f", "-p", pubFile, "-s", keyFile])).exitCode).toBe(0);
      const pub = parsePublicKey(readFileSync(pubFile, "utf8"));
      const file = join(dir, "SHA256SUMS");
      writeFileSync(file, "abc  protocol-linux-x64\n");
      for (const legacy of [false, true]) {
        const made = await sh([
          "minisign",
          "-S",
          ...(legacy ? ["-l"] : []),
          "-s",
          keyFile,
          "-m",
          file,
          "-t",
          "by minisign",
        ]);
        expect(made.exitCode, made.stderr).toBe(0);
        expect(parseSignature(readFileSync(`${file}.minisig`, "utf8")).prehashed).toBe(!legacy);
        expect(await verifySignature(readFileSync(file), readFileSync(`${file}.minisig`, "utf8"), pub)).toBe(
          "by minisign",
        );
      }
      const secret = parseSecretKey(readFileSync(keyFile, "utf8"));
      expect(publicKeyLine(secret)).toBe(readFileSync(pubFile, "utf8").split("\n")[1]!);
      writeFileSync(`${file}.minisig`, await signData(readFileSync(file), secret, "protocol 1.0.0 SHA256SUMS"));
      const checked = await sh(["minisign", "-V", "-H", "-p", pubFile, "-m", file]);
      expect(checked.exitCode, checked.stderr).toBe(0);
      expect(checked.stdout).toContain("Trusted comment: protocol 1.0.0 SHA256SUMS");
      writeFileSync(file, "tampered\n");
      expect((await sh(["minisign", "-V", "-p", pubFile, "-m", file])).exitCode).not.toBe(0);
    },
  );
});

describe("scripts/build.ts --sign", () => {
  const build = (args: string[], env: Record<string, string> = {}) =>
    sh([process.execPath, join(import.meta.dir, "..", "..", "scripts", "build.ts"), ...args], { env });

  withMinisign(
    "signs SHA256SUMS with PROTOCOL_MINISIGN_KEY so that minisign accepts it, and says plainly when it did not sign",
    async () => {
      const release = mkdtempSync(join(dir, "release-"));
      writeFileSync(join(release, "SHA256SUMS"), "abc  protocol-linux-x64\n");
      const unsigned = await build(["--sign", release]);
      expect(unsigned.exitCode).toBe(0);
      expect(unsigned.stdout).toContain("NOT SIGNED: PROTOCOL_MINISIGN_KEY is not set");
      const keyFile = join(dir, "release.key");
      const pubFile = join(dir, "release.pub");
      await sh(["minisign", "-G", "-W", "-f", "-p", pubFile, "-s", keyFile]);
      const signed = await build(["--sign", release], { PROTOCOL_MINISIGN_KEY: keyFile });
      expect(signed.exitCode, signed.stderr).toBe(0);
      expect(signed.stdout).toContain("signed SHA256SUMS with");
      // Not package.json's release key: the build says so.
      expect(signed.stdout).toContain("WARNING: that is not the release key in package.json");
      const checked = await sh(["minisign", "-V", "-p", pubFile, "-m", join(release, "SHA256SUMS")]);
      expect(checked.exitCode, checked.stderr).toBe(0);
      expect(checked.stdout).toMatch(/Trusted comment: protocol \S+ SHA256SUMS/);
    },
  );
});
