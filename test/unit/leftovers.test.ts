import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readTextOrNull } from "../../src/lib/core/fs.ts";
import { clearStaleIndexLock, STALE_INDEX_LOCK_MS } from "../../src/lib/git/leftovers.ts";

let workTree: string;
let gitDir: string;
let lockPath: string;

beforeEach(() => {
  // realpath: /proc/<pid>/cwd is always the resolved path.
  workTree = realpathSync(mkdtempSync(join(tmpdir(), "protocol-index-lock-")));
  gitDir = join(workTree, ".git");
  mkdirSync(gitDir);
  lockPath = join(gitDir, "index.lock");
});

afterEach(() => {
  rmSync(workTree, { recursive: true, force: true });
});

/** `git hash-object --stdin` sits in `cwd` until its stdin closes; resolves once it has exec'd git. */
async function spawnIdleGit(cwd: string) {
  const git = Bun.spawn(["git", "hash-object", "--stdin"], { cwd, stdin: "pipe", stdout: "ignore" });
  for (let i = 0; i < 200 && readTextOrNull(`/proc/${git.pid}/comm`)?.trim() !== "git"; i++) await Bun.sleep(5);
  expect(readTextOrNull(`/proc/${git.pid}/comm`)?.trim()).toBe("git");
  return git;
}

function writeLock(): number {
  writeFileSync(lockPath, "");
  return statSync(lockPath).mtimeMs;
}

describe("clearStaleIndexLock", () => {
  test("does nothing when there is no index.lock", () => {
    expect(clearStaleIndexLock(gitDir, workTree)).toBe(false);
  });

  test.each([
    ["just written", 0],
    ["59 s old", 59_000],
    ["1 ms short of a minute old", STALE_INDEX_LOCK_MS - 1],
  ])("keeps a lock that is %s", (_name, age) => {
    const mtime = writeLock();
    expect(clearStaleIndexLock(gitDir, workTree, mtime + age)).toBe(false);
    expect(existsSync(lockPath)).toBe(true);
  });

  test("keeps a fresh lock when called without a clock", () => {
    writeLock();
    expect(clearStaleIndexLock(gitDir, workTree)).toBe(false);
    expect(existsSync(lockPath)).toBe(true);
  });

  test.each([
    ["exactly a minute old", STALE_INDEX_LOCK_MS],
    ["61 s old", 61_000],
    ["a day old", 86_400_000],
  ])("removes a lock that is %s when no git runs in the dir", (_name, age) => {
    const mtime = writeLock();
    expect(clearStaleIndexLock(gitDir, workTree, mtime + age)).toBe(true);
    expect(existsSync(lockPath)).toBe(false);
  });

  test("removes only index.lock, nothing else in the git dir", () => {
    writeFileSync(join(gitDir, "HEAD"), "ref: refs/heads/main\n");
    const mtime = writeLock();
    clearStaleIndexLock(gitDir, workTree, mtime + 120_000);
    expect(existsSync(join(gitDir, "HEAD"))).toBe(true);
  });

  test("keeps an old lock while a git process works in the dir", async () => {
    const mtime = writeLock();
    const git = await spawnIdleGit(workTree);
    try {
      expect(clearStaleIndexLock(gitDir, workTree, mtime + 120_000)).toBe(false);
      expect(existsSync(lockPath)).toBe(true);
    } finally {
      git.stdin.end();
      await git.exited;
    }
    expect(clearStaleIndexLock(gitDir, workTree, mtime + 120_000)).toBe(true);
  });

  test("keeps an old lock while a git process works in a subdir", async () => {
    const sub = join(workTree, "src");
    mkdirSync(sub);
    const mtime = writeLock();
    const git = await spawnIdleGit(sub);
    try {
      expect(clearStaleIndexLock(gitDir, workTree, mtime + 120_000)).toBe(false);
    } finally {
      git.stdin.end();
      await git.exited;
    }
  });

  test("is not fooled by git running in a sibling dir that shares the prefix", async () => {
    const sibling = `${workTree}-other`;
    mkdirSync(sibling);
    const mtime = writeLock();
    const git = await spawnIdleGit(sibling);
    try {
      expect(clearStaleIndexLock(gitDir, workTree, mtime + 120_000)).toBe(true);
    } finally {
      git.stdin.end();
      await git.exited;
      rmSync(sibling, { recursive: true, force: true });
    }
  });
});
