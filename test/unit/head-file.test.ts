import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findPackedRef, readHeadFromFiles } from "../../src/lib/git/head-file.ts";
import { git } from "../helpers/fixture.ts";

let dir: string;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "protocol-head-"));
  await git(dir, "init", "--quiet", "--initial-branch=main");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const commit = async (message: string) => {
  await git(dir, "commit", "--quiet", "--allow-empty", "-m", message);
  return git(dir, "rev-parse", "HEAD");
};

describe("readHeadFromFiles (what rev-parse HEAD says, without a process)", () => {
  test("a loose branch ref", async () => {
    const sha = await commit("one");
    expect(readHeadFromFiles(dir)).toBe(sha);
  });

  test("a packed ref", async () => {
    const sha = await commit("one");
    await git(dir, "pack-refs", "--all", "--prune");
    expect(readHeadFromFiles(dir)).toBe(sha);
  });

  test("a detached HEAD", async () => {
    const first = await commit("one");
    await commit("two");
    await git(dir, "checkout", "--quiet", "--detach", first);
    expect(readHeadFromFiles(dir)).toBe(first);
  });

  test("gives up (undefined) on an unborn branch and on a worktree's .git file, so git is asked", async () => {
    expect(readHeadFromFiles(dir)).toBeUndefined();
    await commit("one");
    const worktree = join(dir, "wt");
    await git(dir, "worktree", "add", "--quiet", worktree);
    expect(readHeadFromFiles(worktree)).toBeUndefined();
    expect(readHeadFromFiles(join(dir, "missing"))).toBeUndefined();
  });

  test("findPackedRef reads exactly that ref, skipping peeled lines", () => {
    const a = "a".repeat(40);
    const packed = `# pack-refs with: peeled fully-peeled sorted\n${a} refs/heads/main\n^${"b".repeat(40)}\n${"c".repeat(40)} refs/heads/main2\n`;
    expect(findPackedRef(packed, "refs/heads/main")).toBe(a);
    expect(findPackedRef(packed, "refs/heads/other")).toBeNull();
  });
});
