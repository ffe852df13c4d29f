/**
 * SHA256SUMS as self:update trusts it: fetched with its minisign signature, verified against the
 * release key before a single line is read. A checksum file alone proves only that a download is
 * intact; whoever controls the release host could replace both. The signature says who made it.
 */
import { NotFoundError, StepFailedError } from "../core/errors.ts";
import { fetchText } from "../core/http.ts";
import { releaseFileUrl } from "./metadata.ts";
import { type PublicKey, SignatureError, verifySignature } from "./minisign.ts";
import { releasePublicKey } from "./release-key.ts";

export const SIGNATURE_FILE = "SHA256SUMS.minisig";

/** The trusted comment scripts/build.ts signs: names the version, so an old signed file cannot pose as a new one. */
export function trustedComment(version: string): string {
  return `protocol ${version} SHA256SUMS`;
}

const MIRROR_HINT =
  "nothing was installed; a mirror that signs its own releases needs PROTOCOL_MINISIGN_PUBKEY set to its key";

export async function fetchSignedSums(
  base: string,
  version: string,
  key: PublicKey = releasePublicKey(),
): Promise<string> {
  const sumsUrl = releaseFileUrl(base, version, "SHA256SUMS");
  const sigUrl = releaseFileUrl(base, version, SIGNATURE_FILE);
  const [text, signature] = await Promise.all([
    fetchText(sumsUrl),
    fetchText(sigUrl).catch((error) => {
      if (error instanceof NotFoundError)
        throw new StepFailedError(`release ${version} is not signed: ${sigUrl} is missing`, MIRROR_HINT);
      throw error;
    }),
  ]);
  let comment: string;
  try {
    comment = await verifySignature(new TextEncoder().encode(text), signature, key);
  } catch (error) {
    if (!(error instanceof SignatureError)) throw error;
    throw new StepFailedError(
      `SHA256SUMS of release ${version} is not signed by the release key: ${error.message}`,
      MIRROR_HINT,
    );
  }
  // Signed by our build: the comment names the version (a file signed by hand with minisign's own comment is accepted).
  if (comment.startsWith("protocol ") && comment !== trustedComment(version))
    throw new StepFailedError(
      `SHA256SUMS served as release ${version} was signed for another one ("${comment}")`,
      "the release host serves an old file under a new version; nothing was installed",
    );
  return text;
}
