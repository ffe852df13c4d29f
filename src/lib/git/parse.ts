/** Pure parsers of git's machine-readable output (porcelain, -z, --format). */

/** `git ls-remote <remote> <ref>`: the sha of exactly that ref, or null. */
export function parseLsRemote(stdout: string, ref: string): string | null {
  for (const line of stdout.split("\n")) {
    const [sha, name] = line.split("\t");
    if (name === ref && sha && /^[0-9a-f]{40,64}$/.test(sha)) return sha;
  }
  return null;
}

/** `git ls-remote --symref <remote> HEAD`: the branch HEAD points to, or null. */
export function parseSymref(stdout: string): string | null {
  const match = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(stdout);
  return match?.[1] ?? null;
}

/** `git ls-remote --symref <url> HEAD refs/heads/*`: the branches, and the one HEAD names (if it exists). */
export function parseRemoteBranches(stdout: string): { branches: string[]; head: string | null } {
  const branches = [...stdout.matchAll(/^[0-9a-f]{40,64}\trefs\/heads\/(\S+)$/gm)].map((match) => match[1]!).sort();
  const head = parseSymref(stdout);
  return { branches, head: head && branches.includes(head) ? head : null };
}

export interface StatusEntry {
  /** Two-letter XY code, e.g. " M", "A ", "UU". */
  code: string;
  path: string;
}

/**
 * `git status --porcelain=v1 -z`: entries; a rename's second (origin) path is skipped. The rename
 * may be in the index ("R ") or, for an intent-to-add file, in the work tree (" R").
 */
export function parseStatusZ(stdout: string): StatusEntry[] {
  const entries: StatusEntry[] = [];
  const fields = stdout.split("\0");
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    if (!field || field.length < 4) continue;
    const code = field.slice(0, 2);
    entries.push({ code, path: field.slice(3) });
    if (/[RC]/.test(code)) i++;
  }
  return entries;
}

/** `git rev-list --left-right --count A...B`: commits only in A (ahead) and only in B (behind). */
export function parseAheadBehind(stdout: string): { ahead: number; behind: number } {
  const match = /^(\d+)\s+(\d+)\s*$/.exec(stdout.trim());
  if (!match) throw new Error(`unexpected rev-list output: ${JSON.stringify(stdout)}`);
  return { ahead: Number(match[1]), behind: Number(match[2]) };
}

/** `git rev-parse --abbrev-ref @{upstream}` gives "origin/main"; split it against the remote name. */
export function parseUpstream(stdout: string, remote: string): string | null {
  const value = stdout.trim();
  return value.startsWith(`${remote}/`) ? value.slice(remote.length + 1) : null;
}

/** git's progress meter ("Receiving objects:  45% (9/20)", "remote: Counting objects: 5, done."). */
const PROGRESS =
  /^(remote: )?([A-Z][a-z]+( [a-z]+)*: +(\d+% \(\d+\/\d+\)|\d+(, done)?\.?)|Total \d+ .*|\d+% \(\d+\/\d+\).*)/;

/** stderr of a fetch run with --progress, without the progress meter: what is left says why it failed. */
export function stripProgress(stderr: string): string {
  return stderr
    .split(/\r|\n/)
    .filter((line) => !PROGRESS.test(line.trim()))
    .join("\n");
}

/** `git ls-tree -r -z <commit>`: path → object id, for blobs and links (submodules left out). */
export function parseLsTreeZ(stdout: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const record of stdout.split("\0")) {
    const match = /^\d{6} (blob|tree|commit) ([0-9a-f]{40,64})\t(.+)$/s.exec(record);
    if (match && match[1] === "blob") entries.set(match[3]!, match[2]!);
  }
  return entries;
}

export interface TreeEntry {
  /** 100644, 100755 (file), 120000 (symlink), 160000 (submodule). */
  mode: string;
  type: "blob" | "tree" | "commit";
  object: string;
  /** Bytes of a blob; null for a submodule. */
  size: number | null;
  path: string;
}

/** `git ls-tree -r -z --long <commit>`: every entry with its mode and size. */
export function parseLsTreeLong(stdout: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of stdout.split("\0")) {
    const match = /^(\d{6}) (blob|tree|commit) ([0-9a-f]{40,64}) +(\d+|-)\t(.+)$/s.exec(record);
    if (!match) continue;
    const [, mode, type, object, size, path] = match as unknown as [
      string,
      string,
      TreeEntry["type"],
      string,
      string,
      string,
    ];
    entries.push({ mode, type, object, size: size === "-" ? null : Number(size), path });
  }
  return entries;
}

/**
 * `git cat-file --batch` output for the objects asked, in order: object → content. Sizes are bytes
 * and the text arrived decoded as UTF-8, so a record that does not add up ends the parse: the
 * objects after it are missing from the map (callers treat a missing one as unreadable).
 */
export function parseCatFileBatch(stdout: string, objects: readonly string[]): Map<string, string> {
  const contents = new Map<string, string>();
  const bytes = Buffer.from(stdout, "utf8");
  let at = 0;
  for (const object of objects) {
    const eol = bytes.indexOf(10, at);
    if (eol < 0) break;
    const header = /^([0-9a-f]{40,64}) blob (\d+)$/.exec(bytes.subarray(at, eol).toString("utf8"));
    if (!header || header[1] !== object) break;
    const size = Number(header[2]);
    const end = eol + 1 + size;
    if (bytes[end] !== 10) break;
    contents.set(object, bytes.subarray(eol + 1, end).toString("utf8"));
    at = end + 1;
  }
  return contents;
}

/** `git ls-remote` output: ref → object, every line (for patterns that match many refs). */
export function parseLsRemoteRefs(stdout: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const match = /^([0-9a-f]{40,64})\t(\S+)$/.exec(line);
    if (match) refs.set(match[2]!, match[1]!);
  }
  return refs;
}

/** `git cat-file --batch-check` output, one entry per object asked, in order; null for a missing one. */
export function parseBatchCheck(
  stdout: string,
  count: number,
): Array<{ object: string; type: string; size: number } | null> {
  const lines = stdout.split("\n");
  return Array.from({ length: count }, (_, i) => {
    const match = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(lines[i] ?? "");
    return match ? { object: match[1]!, type: match[2]!, size: Number(match[3]) } : null;
  });
}
