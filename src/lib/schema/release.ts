import * as v from "valibot";

/** A release version as VERSION holds it: `0.4.0`, `1.2.3-rc.1`, no leading `v`. */
export const VersionSchema = v.pipe(
  v.string(),
  v.trim(),
  v.regex(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/, "is not a version like 1.2.3"),
);

const HashSchema = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "is not a sha256 hex digest"));
const FileNameSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]+$/, "is not a plain file name"));

export class ReleaseMetadataError extends Error {}

/** The bare version from a release's VERSION file. */
export function parseVersionFile(text: string): string {
  const result = v.safeParse(VersionSchema, text);
  if (!result.success) throw new ReleaseMetadataError(`VERSION ${v.summarize(result.issues)}`);
  return result.output;
}

/**
 * SHA256SUMS as `sha256sum` writes it: `<hex>  <file>` (text mode) or `<hex> *<file>` (binary
 * mode), one per line. Returns file name → lower-case hex; any other line is an error.
 */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") return;
    const match = /^([0-9A-Fa-f]+) [ *](.+)$/.exec(line);
    const hash = v.safeParse(HashSchema, match?.[1]?.toLowerCase());
    const file = v.safeParse(FileNameSchema, match?.[2]);
    if (!match || !hash.success || !file.success) {
      const issues = !hash.success ? hash.issues : !file.success ? file.issues : null;
      throw new ReleaseMetadataError(
        `SHA256SUMS line ${index + 1} ${issues ? v.summarize(issues) : 'is not "<sha256>  <file>"'}: ${JSON.stringify(line.slice(0, 120))}`,
      );
    }
    sums.set(file.output, hash.output);
  });
  if (sums.size === 0) throw new ReleaseMetadataError("SHA256SUMS lists no files");
  return sums;
}

/** The file sha256sum -c reads: sorted by name, two spaces. */
export function renderSha256Sums(sums: ReadonlyMap<string, string>): string {
  return [...sums]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([file, hash]) => `${hash}  ${file}\n`)
    .join("");
}
