/**
 * The room a fetch must leave on its file system (the reserve), the free space it watches while it
 * runs, and the one-line error of a fetch that ran out of room.
 */
import { existsSync, statfsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { mb } from "./disk.ts";
import { DiskFullError } from "./errors.ts";
import { shortSha } from "./output.ts";

const MB = 1024 * 1024;

/** A dir not made yet lives on its nearest existing parent's file system. */
function nearestExisting(path: string): string {
  let at = path;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  return at;
}

/** Free (for an unprivileged writer) and total bytes of the file system holding `path`: one statfs. */
export function diskSpace(path: string): { free: number; total: number } {
  const fs = statfsSync(nearestExisting(path));
  return { free: Number(fs.bavail) * Number(fs.bsize), total: Number(fs.blocks) * Number(fs.bsize) };
}

/** Where the file system holding `path` is mounted: the highest dir above it on the same device. */
export function mountPoint(path: string): string {
  let at = nearestExisting(path);
  const device = statSync(at).dev;
  while (dirname(at) !== at && statSync(dirname(at)).dev === device) at = dirname(at);
  return at;
}

/**
 * What a fetch leaves free on its file system: 256 MB or 1 % of it, whichever is more, but never
 * more than 5 % of it. The app's logs, the docker engine and protocol's own records go on writing
 * there while a fetch runs, and a full disk stops them all: 256 MB is days of logs on a small VPS,
 * a bigger disk has more writers, and a small file system (a 2 GB volume) is not held at 12 % free.
 * PROTOCOL_DISK_RESERVE_MB sets it (0: only a write that fails stops the fetch).
 */
export function diskReserveBytes(totalBytes: number, env: Record<string, string | undefined> = process.env): number {
  const set = Number(env.PROTOCOL_DISK_RESERVE_MB);
  if (env.PROTOCOL_DISK_RESERVE_MB?.trim() && Number.isFinite(set) && set >= 0) return Math.round(set * MB);
  return Math.round(Math.min(Math.max(256 * MB, totalBytes / 100), totalBytes / 20));
}

/** A fetch stopped for want of room, with the sizes: what status shows and the loop waits out. */
export interface FetchRoom {
  /** The commit it was bringing (null: a branch whose tip was not asked first). */
  commit: string | null;
  /** The mount point of the file system holding .git/objects. */
  mount: string;
  /** Free bytes when the fetch started, and at its lowest (when it was stopped). */
  freeBefore: number;
  freeAtStop: number;
  /** What it had to leave free (diskReserveBytes). */
  reserve: number;
  at: string;
}

/**
 * The free space past which the same commit is fetched again: more than the fetch had by 32 MB or
 * 10 %, whichever is more, so the drift of logs being written and rotated does not count as room.
 */
export function retryAboveBytes(room: Pick<FetchRoom, "freeBefore">): number {
  return room.freeBefore + Math.max(32 * MB, Math.round(room.freeBefore / 10));
}

/**
 * The one-line error and hint of a fetch that ran out of room; with `freeNow`, of a pass that did
 * not fetch it again because the room has not grown enough.
 */
export function fetchRoomError(room: FetchRoom, what: string, freeNow?: number): { error: string; hint: string } {
  const usable = room.freeBefore - room.reserve;
  const cause =
    usable > 0
      ? `fetching ${what} needs more than the ${mb(usable)} MB free on ${room.mount} above its ${mb(room.reserve)} MB reserve`
      : `${mb(room.freeBefore)} MB free on ${room.mount}, under the ${mb(room.reserve)} MB reserve: ${what} was not fetched`;
  const after =
    freeNow === undefined
      ? usable > 0
        ? ` (stopped at ${mb(room.freeAtStop)} MB free; its temp files were removed)`
        : ""
      : ` (since ${room.at}; ${mb(freeNow)} MB free now: not fetched again)`;
  return {
    error: `disk full: ${cause}${after}`,
    hint: `free space on ${room.mount} (docker image prune, old logs), then run protocol sync; ${what} is fetched again once more than ${mb(retryAboveBytes(room))} MB are free there, or when a new commit arrives`,
  };
}

/** A fetch stopped (or not started) for want of room: disk full, with the sizes. */
export class FetchDiskFullError extends DiskFullError {
  constructor(
    readonly room: FetchRoom,
    what = shortSha(room.commit),
  ) {
    const { error, hint } = fetchRoomError(room, what);
    super(error, hint);
  }
}
