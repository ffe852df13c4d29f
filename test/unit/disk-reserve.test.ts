/** The room a fetch leaves free, and what it says when it ran out (issue 29): literal sizes in, bytes and lines out. */
import { describe, expect, test } from "bun:test";
import { diskReserveBytes, fetchRoomError, retryAboveBytes } from "../../src/lib/core/disk-reserve.ts";

const MB = 1024 * 1024;
const GB = 1024 * MB;

describe("the reserve a fetch leaves free", () => {
  const rows: [string, number, Record<string, string>, number][] = [
    ["a 20 GB VPS disk: 256 MB", 20 * GB, {}, 256 * MB],
    ["a 100 GB disk: 1 % of it", 100 * GB, {}, Math.round(GB)],
    ["a 2 GB volume: at most 5 % of it", 2 * GB, {}, Math.round((2 * GB) / 20)],
    ["PROTOCOL_DISK_RESERVE_MB sets it", 100 * GB, { PROTOCOL_DISK_RESERVE_MB: "4" }, 4 * MB],
    ["PROTOCOL_DISK_RESERVE_MB=0: only a failed write stops the fetch", 100 * GB, { PROTOCOL_DISK_RESERVE_MB: "0" }, 0],
    ["a value that is not a size is ignored", 20 * GB, { PROTOCOL_DISK_RESERVE_MB: "lots" }, 256 * MB],
    ["a negative value is ignored", 20 * GB, { PROTOCOL_DISK_RESERVE_MB: "-1" }, 256 * MB],
  ];
  for (const [name, total, env, reserve] of rows) test(name, () => expect(diskReserveBytes(total, env)).toBe(reserve));
});

describe("a fetch out of room", () => {
  const room = {
    commit: "a".repeat(40),
    mount: "/srv",
    freeBefore: 300 * MB,
    freeAtStop: 255 * MB,
    reserve: 256 * MB,
    at: "t",
  };

  test("is fetched again once free space is over what it had by 32 MB or 10 %, whichever is more", () => {
    expect(retryAboveBytes({ freeBefore: 100 * MB })).toBe(132 * MB);
    expect(retryAboveBytes({ freeBefore: 1000 * MB })).toBe(1100 * MB);
  });

  test("says how much it could use, where, the reserve, and where it stopped", () => {
    expect(fetchRoomError(room, "aaaaaaaa")).toEqual({
      error:
        "disk full: fetching aaaaaaaa needs more than the 44 MB free on /srv above its 256 MB reserve (stopped at 255 MB free; its temp files were removed)",
      hint: "free space on /srv (docker image prune, old logs), then run protocol sync; aaaaaaaa is fetched again once more than 332 MB are free there, or when a new commit arrives",
    });
  });

  test("not started at all when the file system is already under the reserve", () => {
    expect(fetchRoomError({ ...room, freeBefore: 100 * MB, freeAtStop: 100 * MB }, "aaaaaaaa").error).toBe(
      "disk full: 100 MB free on /srv, under the 256 MB reserve: aaaaaaaa was not fetched",
    );
  });
});
