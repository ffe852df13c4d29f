/** readRepoFile: the one reader of the app's and the config repo's files (issue 29, item 4). */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatBytes, readRepoFile } from "../../src/lib/core/fs.ts";
import { sh } from "../helpers/fixture.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "repo-file-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (name: string, cap = 64) => readRepoFile(join(dir, name), { cap })?.toString("utf8") ?? null;

describe("readRepoFile", () => {
  test("reads a regular file, and one through links (an app's link into the config repo)", () => {
    mkdirSync(join(dir, "config"));
    writeFileSync(join(dir, "config", ".env"), "A=1\n");
    symlinkSync("config/.env", join(dir, ".env"));
    symlinkSync(".env", join(dir, "alias"));
    expect(read("config/.env")).toBe("A=1\n");
    expect(read(".env")).toBe("A=1\n");
    expect(read("alias")).toBe("A=1\n");
  });

  test("nothing there, or a dangling link: null", () => {
    symlinkSync("gone", join(dir, "dangling"));
    expect(read("missing")).toBeNull();
    expect(read("dangling")).toBeNull();
  });

  test("a link to /dev/zero, a FIFO, a directory and a link loop are refused by name, never read (a FIFO is not waited on)", async () => {
    symlinkSync("/dev/zero", join(dir, "zero"));
    expect((await sh(["mkfifo", join(dir, "pipe")])).exitCode).toBe(0);
    mkdirSync(join(dir, "sub"));
    symlinkSync("loop", join(dir, "loop"));
    expect(() => read("zero")).toThrow(`${join(dir, "zero")} (a link to /dev/zero) is a device`);
    expect(() => read("pipe")).toThrow(`${join(dir, "pipe")} is a FIFO: protocol reads only regular files`);
    expect(() => read("sub")).toThrow("is a directory");
    expect(() => read("loop")).toThrow("is a loop of links");
  });

  test("a file over the cap is refused with both sizes; one at the cap is read", () => {
    writeFileSync(join(dir, "big"), "x".repeat(65));
    writeFileSync(join(dir, "fits"), "x".repeat(64));
    expect(() => read("big")).toThrow(`${join(dir, "big")} is 65 bytes; it may be at most 64 bytes`);
    expect(read("fits")).toHaveLength(64);
  });

  test("sizes read as people write them", () => {
    expect([1024 * 1024, 4.2 * 1024 * 1024, 512 * 1024, 12].map(formatBytes)).toEqual([
      "1 MB",
      "4.2 MB",
      "512 KB",
      "12 bytes",
    ]);
  });
});
