/**
 * Unpacking a verified download next to it (same file system as the binary). The unpacked size is
 * read from the file (xz's index, gzip's trailer) and checked against the free space first; a
 * failed unpack removes both files, so nothing big is left on a node's disk.
 */
import { closeSync, createReadStream, createWriteStream, fstatSync, openSync, readSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { mb } from "../core/disk.ts";
import { assertRoom, type DownloadLimits, downloadLimits, ROOM_HINT } from "../core/download.ts";
import { DiskFullError, errorMessage, isDiskFull, ProtocolError, StepFailedError } from "../core/errors.ts";
import { run } from "../core/spawn.ts";
import type { Compression } from "./metadata.ts";

const RETRY_HINT = "nothing was changed; retry, or pick another version with --version";

/** The size `staged` unpacks to, as its own index says (gzip's is modulo 4 GB: binaries are far smaller); null if unknown. */
async function unpackedSize(staged: string, compression: Compression): Promise<number | null> {
  if (compression === "xz") {
    const result = await run(["xz", "--robot", "--list", "--", staged]);
    const totals = result.stdout.split("\n").find((line) => line.startsWith("totals\t"));
    const size = Number(totals?.split("\t")[4]);
    return result.ok && Number.isFinite(size) ? size : null;
  }
  const fd = openSync(staged, "r");
  try {
    const trailer = Buffer.alloc(4);
    const size = fstatSync(fd).size;
    return size >= 18 && readSync(fd, trailer, 0, 4, size - 4) === 4 ? trailer.readUInt32LE(0) : null;
  } finally {
    closeSync(fd);
  }
}

/** Unpack `staged` (an .xz or .gz) beside it; returns the unpacked path. On failure neither file is left. */
export async function unpack(
  staged: string,
  compression: Compression,
  limits: DownloadLimits = downloadLimits(),
): Promise<string> {
  if (compression === "none") return staged;
  const out = staged.slice(0, -`.${compression}`.length);
  const dir = dirname(out);
  try {
    const size = await unpackedSize(staged, compression);
    if (size !== null) await assertRoom(dir, size, limits, `unpacking ${staged} (${mb(size)} MB)`);
    if (compression === "xz") {
      const result = await run(["xz", "--decompress", "--force", "--", staged]);
      if (!result.ok) throw new StepFailedError(`xz could not unpack ${staged}: ${result.stderr.trim()}`, RETRY_HINT);
    } else {
      await pipeline(createReadStream(staged), createGunzip(), createWriteStream(out, { mode: 0o600 }));
    }
  } catch (error) {
    rmSync(out, { force: true });
    rmSync(staged, { force: true });
    const reported =
      error instanceof ProtocolError
        ? error
        : isDiskFull(error)
          ? new DiskFullError(`no space left on the file system of ${dir} unpacking ${staged}`, ROOM_HINT)
          : new StepFailedError(`could not unpack ${staged}: ${errorMessage(error)}`, RETRY_HINT);
    reported.message += " (the download was removed)";
    throw reported;
  }
  rmSync(staged, { force: true });
  return out;
}
