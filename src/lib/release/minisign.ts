/**
 * minisign signatures (Ed25519), verified and made in-process: WebCrypto's Ed25519 and
 * Bun.CryptoHasher's BLAKE2b-512 for the prehashed mode minisign uses by default. Formats as
 * minisign 0.11 writes them: a public key is "Ed" + key id (8) + key (32); a signature file has an
 * untrusted comment, "ED" (prehashed) or "Ed" + key id + signature (64), a trusted comment, and a
 * global signature over the signature and the trusted comment.
 */

export class SignatureError extends Error {}

export interface PublicKey {
  keyId: string;
  key: Uint8Array;
}

const decode = (text: string, what: string): Uint8Array => {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) throw new SignatureError(`${what} is not base64`);
  return new Uint8Array(Buffer.from(trimmed, "base64"));
};

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex").toUpperCase();

/** The key's base64 line, or a whole minisign.pub file (its comment line is skipped). */
export function parsePublicKey(text: string): PublicKey {
  const line = text.split("\n").find((l) => l.trim() !== "" && !l.startsWith("untrusted comment:")) ?? "";
  const bytes = decode(line, "the minisign public key");
  if (bytes.length !== 42 || bytes[0] !== 0x45 || bytes[1] !== 0x64)
    throw new SignatureError("the minisign public key is not an Ed25519 key (42 bytes starting with Ed)");
  return { keyId: hex(bytes.slice(2, 10).reverse()), key: bytes.subarray(10) };
}

export interface Signature {
  prehashed: boolean;
  keyId: string;
  signature: Uint8Array;
  trustedComment: string;
  globalSignature: Uint8Array;
}

export function parseSignature(text: string): Signature {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  if (lines.length < 4 || !lines[0]!.startsWith("untrusted comment:") || !lines[2]!.startsWith("trusted comment: "))
    throw new SignatureError(
      "not a minisign signature file (untrusted comment, signature, trusted comment, global signature)",
    );
  const blob = decode(lines[1]!, "the signature");
  const alg = String.fromCharCode(blob[0] ?? 0, blob[1] ?? 0);
  if (blob.length !== 74 || (alg !== "ED" && alg !== "Ed"))
    throw new SignatureError("the signature is not an Ed25519 minisign signature");
  const globalSignature = decode(lines[3]!, "the global signature");
  if (globalSignature.length !== 64) throw new SignatureError("the global signature is not 64 bytes");
  return {
    prehashed: alg === "ED",
    keyId: hex(blob.slice(2, 10).reverse()),
    signature: blob.subarray(10),
    trustedComment: lines[2]!.slice("trusted comment: ".length),
    globalSignature,
  };
}

const ed25519 = { name: "Ed25519" } as const;

/** WebCrypto wants bytes on a plain ArrayBuffer: a copy. */
const own = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

async function verifyEd25519(key: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  const imported = await crypto.subtle.importKey("raw", own(key), ed25519, false, ["verify"]);
  return crypto.subtle.verify(ed25519, imported, own(signature), own(message));
}

const blake2b512 = (data: Uint8Array) => new Uint8Array(new Bun.CryptoHasher("blake2b512").update(data).digest());

/**
 * Verify `data` against a minisign signature file with `publicKey`; returns the trusted comment.
 * Throws SignatureError saying what is wrong: another key, a bad signature, a forged comment.
 */
export async function verifySignature(data: Uint8Array, signatureText: string, publicKey: PublicKey): Promise<string> {
  const sig = parseSignature(signatureText);
  if (sig.keyId !== publicKey.keyId)
    throw new SignatureError(`signed by key ${sig.keyId}, not by the release key ${publicKey.keyId}`);
  if (!(await verifyEd25519(publicKey.key, sig.signature, sig.prehashed ? blake2b512(data) : data)))
    throw new SignatureError(`the signature does not match the file (key ${publicKey.keyId})`);
  const comment = new TextEncoder().encode(sig.trustedComment);
  const signed = new Uint8Array([...sig.signature, ...comment]);
  if (!(await verifyEd25519(publicKey.key, sig.globalSignature, signed)))
    throw new SignatureError("the trusted comment's signature does not match: the comment was changed");
  return sig.trustedComment;
}

export interface SecretKey {
  keyId: Uint8Array;
  seed: Uint8Array;
  publicKey: Uint8Array;
}

/**
 * An unencrypted minisign secret key file (`minisign -G -W`): "Ed", kdf "\0\0", "B2", salt and
 * limits, then key id, secret key (seed + public key) and a checksum. A password-protected key
 * is refused: its scrypt parameters are libsodium's, and a release key for CI is stored as a secret.
 */
export function parseSecretKey(text: string): SecretKey {
  const line = text.split("\n").find((l) => l.trim() !== "" && !l.startsWith("untrusted comment:")) ?? "";
  const bytes = decode(line, "the minisign secret key");
  if (bytes.length !== 158 || bytes[0] !== 0x45 || bytes[1] !== 0x64)
    throw new SignatureError("not a minisign Ed25519 secret key");
  if (bytes[2] !== 0 || bytes[3] !== 0)
    throw new SignatureError("the minisign secret key is password-protected; make the release key with minisign -G -W");
  const key = bytes.subarray(54);
  return { keyId: key.subarray(0, 8), seed: key.subarray(8, 40), publicKey: key.subarray(40, 72) };
}

/** The public key line (base64) of a secret key, as minisign -G writes it. */
export function publicKeyLine(secret: SecretKey): string {
  return Buffer.from(new Uint8Array([0x45, 0x64, ...secret.keyId, ...secret.publicKey])).toString("base64");
}

const PKCS8_ED25519 = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** A prehashed ("ED") minisign signature file for `data`, as `minisign -S -t <comment>` makes it. */
export async function signData(data: Uint8Array, secret: SecretKey, trustedComment: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "pkcs8",
    new Uint8Array([...PKCS8_ED25519, ...secret.seed]),
    ed25519,
    false,
    ["sign"],
  );
  const signature = new Uint8Array(await crypto.subtle.sign(ed25519, key, blake2b512(data)));
  const comment = new TextEncoder().encode(trustedComment);
  const global = new Uint8Array(await crypto.subtle.sign(ed25519, key, new Uint8Array([...signature, ...comment])));
  const blob = Buffer.from(new Uint8Array([0x45, 0x44, ...secret.keyId, ...signature])).toString("base64");
  return `untrusted comment: signature from protocol's release key\n${blob}\ntrusted comment: ${trustedComment}\n${Buffer.from(global).toString("base64")}\n`;
}
