import { StepFailedError } from "../core/errors.ts";

/** The file's sha256 as lower-case hex, streamed (artifacts are ~100 MB). */
export async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** Fail unless the file at `path` has the digest SHA256SUMS gives for `name`; says where the file is kept. */
export async function verifySha256(path: string, name: string, expected: string): Promise<void> {
  const actual = await sha256File(path);
  if (actual !== expected) {
    throw new StepFailedError(
      `checksum mismatch for ${name}: SHA256SUMS says ${expected}, the download is ${actual}`,
      `nothing was changed; the download is kept at ${path} for inspection (delete it, then retry)`,
    );
  }
}
