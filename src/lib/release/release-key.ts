/**
 * The key that signs releases: package.json's `config.minisignPublicKey`, bundled into the binary
 * (scripts/build.ts also writes it into the released install.sh). PROTOCOL_MINISIGN_PUBKEY
 * replaces it, for a mirror that signs its own releases, and for tests. Never read from a download.
 */
import pkg from "../../../package.json" with { type: "json" };
import { ConfigError, PreconditionError } from "../core/errors.ts";
import { type PublicKey, parsePublicKey, SignatureError } from "./minisign.ts";

export const RELEASE_PUBLIC_KEY: string = pkg.config.minisignPublicKey;

export function releasePublicKey(env: Record<string, string | undefined> = process.env): PublicKey {
  const given = env.PROTOCOL_MINISIGN_PUBKEY;
  const line = given || RELEASE_PUBLIC_KEY;
  if (!line)
    throw new PreconditionError(
      "this build of protocol has no release key, so it cannot verify a release",
      "set PROTOCOL_MINISIGN_PUBKEY to the release's minisign public key (the RW… line), or install a signed release",
    );
  try {
    return parsePublicKey(line);
  } catch (error) {
    if (!(error instanceof SignatureError)) throw error;
    throw new ConfigError(
      `${given ? "PROTOCOL_MINISIGN_PUBKEY" : "the built-in release key"}: ${error.message}`,
      "give the key's base64 line, as minisign -G writes it into minisign.pub (RW…)",
    );
  }
}

/** install.sh with its release key set: what scripts/build.ts ships. */
export function withReleaseKey(script: string, key = RELEASE_PUBLIC_KEY): string {
  return script.replace(/^DEFAULT_MINISIGN_PUBKEY=.*$/m, `DEFAULT_MINISIGN_PUBKEY="${key}"`);
}
