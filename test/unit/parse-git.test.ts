import { describe, expect, test } from "bun:test";
import {
  parseAheadBehind,
  parseCatFileBatch,
  parseLsRemote,
  parseLsTreeLong,
  parseStatusZ,
  parseSymref,
  parseUpstream,
} from "../../src/lib/git/parse.ts";

const SHA_A = "a".repeat(40);
const SHA_B = "0123456789abcdef0123456789abcdef01234567";
const SHA256 = "f".repeat(64);

describe("parseLsRemote", () => {
  const output = [
    `${SHA_A}\tHEAD`,
    `${SHA_B}\trefs/heads/main`,
    `${SHA_A}\trefs/heads/main-old`,
    `${SHA256}\trefs/heads/sha256`,
    `${SHA_A}\trefs/tags/v1`,
    `${SHA_B}\trefs/tags/v1^{}`,
    "",
  ].join("\n");

  test.each([
    ["the sha of the exact ref", "refs/heads/main", SHA_B],
    ["HEAD", "HEAD", SHA_A],
    ["a 64-digit sha-256 object name", "refs/heads/sha256", SHA256],
    ["the tag object, not the peeled ^{} line", "refs/tags/v1", SHA_A],
    ["null for a ref that is only a prefix of another", "refs/heads/mai", null],
    ["null for a ref the remote does not have", "refs/heads/missing", null],
  ])("returns %s", (_name, ref, expected) => {
    expect(parseLsRemote(output, ref)).toBe(expected);
  });

  test.each([
    ["empty output", ""],
    ["a line whose sha is not hex", `${"g".repeat(40)}\trefs/heads/main\n`],
    ["a line whose sha is too short", `${"a".repeat(39)}\trefs/heads/main\n`],
    ["a line with a space instead of a tab", `${SHA_A} refs/heads/main\n`],
  ])("returns null for %s", (_name, stdout) => {
    expect(parseLsRemote(stdout, "refs/heads/main")).toBeNull();
  });
});

describe("parseSymref", () => {
  test.each([
    ["the branch HEAD points to", `ref: refs/heads/main\tHEAD\n${SHA_A}\tHEAD\n`, "main"],
    ["a branch name with slashes", `ref: refs/heads/release/2024-01\tHEAD\n${SHA_A}\tHEAD\n`, "release/2024-01"],
    [
      "the HEAD symref when other symrefs come first",
      `ref: refs/heads/dev\trefs/remotes/origin/HEAD\nref: refs/heads/prod\tHEAD\n`,
      "prod",
    ],
    ["null without a symref line (old server, detached HEAD)", `${SHA_A}\tHEAD\n`, null],
    ["null for empty output", "", null],
    ["null when the symref is not a branch", `ref: refs/tags/v1\tHEAD\n`, null],
  ])("returns %s", (_name, stdout, expected) => {
    expect(parseSymref(stdout)).toBe(expected);
  });
});

describe("parseStatusZ", () => {
  test.each([
    ["nothing for a clean tree", "", []],
    ["a modified file", " M src/app.ts\0", [{ code: " M", path: "src/app.ts" }]],
    [
      "staged and untracked files",
      "A  new.ts\0?? scratch.txt\0MM both.ts\0",
      [
        { code: "A ", path: "new.ts" },
        { code: "??", path: "scratch.txt" },
        { code: "MM", path: "both.ts" },
      ],
    ],
    ["a path with spaces, unquoted", " M docs/my notes.md\0", [{ code: " M", path: "docs/my notes.md" }]],
    ["a one-character path", "?? a\0", [{ code: "??", path: "a" }]],
    ["an unmerged file", "UU conflict.ts\0", [{ code: "UU", path: "conflict.ts" }]],
    [
      "a staged rename as its new path, skipping the origin path",
      "R  new name.ts\0old name.ts\0 M other.ts\0",
      [
        { code: "R ", path: "new name.ts" },
        { code: " M", path: "other.ts" },
      ],
    ],
    ["a copy as its new path, skipping the origin path", "C  copy.ts\0orig.ts\0", [{ code: "C ", path: "copy.ts" }]],
    [
      "a rename with a short origin path without taking the next entry as its origin",
      "R  b.ts\0a\0?? c.ts\0",
      [
        { code: "R ", path: "b.ts" },
        { code: "??", path: "c.ts" },
      ],
    ],
    [
      // What git 2.39 prints after `mv old.txt "new name.txt" && git add -N "new name.txt"`.
      "a work-tree rename of an intent-to-add file, skipping the origin path",
      " R new name.txt\0old.txt\0",
      [{ code: " R", path: "new name.txt" }],
    ],
  ])("returns %s", (_name, stdout, expected) => {
    expect(parseStatusZ(stdout)).toEqual(expected);
  });
});

describe("parseAheadBehind", () => {
  test.each([
    ["0\t0\n", { ahead: 0, behind: 0 }],
    ["3\t0\n", { ahead: 3, behind: 0 }],
    ["0\t12\n", { ahead: 0, behind: 12 }],
    ["  7 5  ", { ahead: 7, behind: 5 }],
  ])("reads %j as left (ahead) and right (behind) counts", (stdout, expected) => {
    expect(parseAheadBehind(stdout)).toEqual(expected);
  });

  test.each([
    ["empty output", ""],
    ["one number", "3\n"],
    ["three numbers", "1\t2\t3\n"],
    ["a negative count", "-1\t2\n"],
    ["words", "fatal: bad revision\n"],
  ])("throws on %s, naming the output", (_name, stdout) => {
    expect(() => parseAheadBehind(stdout)).toThrow(`unexpected rev-list output: ${JSON.stringify(stdout)}`);
  });
});

describe("parseUpstream", () => {
  test.each([
    ["the branch of origin/main", "origin/main\n", "origin", "main"],
    ["a branch with slashes", "origin/feature/x\n", "origin", "feature/x"],
    ["a branch of a remote named other than origin", "upstream/prod\n", "upstream", "prod"],
    ["null when the upstream is on another remote", "upstream/main\n", "origin", null],
    ["null when the remote name is only a prefix", "origin2/main\n", "origin", null],
    ["null for empty output (no upstream)", "", "origin", null],
  ])("returns %s", (_name, stdout, remote, expected) => {
    expect(parseUpstream(stdout, remote)).toBe(expected);
  });
});

describe("parseLsTreeLong", () => {
  test("reads mode, type, object, size and path of each entry; a submodule has no size", () => {
    const a = "a".repeat(40);
    const b = "b".repeat(40);
    const c = "c".repeat(40);
    const out = `100644 blob ${a}      12\t.env\u0000120000 blob ${b}      11\tdir/with tab\tlink\u0000160000 commit ${c}       -\tvendor\u0000`;
    expect(parseLsTreeLong(out)).toEqual([
      { mode: "100644", type: "blob", object: a, size: 12, path: ".env" },
      { mode: "120000", type: "blob", object: b, size: 11, path: "dir/with tab\tlink" },
      { mode: "160000", type: "commit", object: c, size: null, path: "vendor" },
    ]);
  });
});

describe("parseCatFileBatch", () => {
  const a = "a".repeat(40);
  const b = "b".repeat(40);
  test("splits records by their byte sizes, multi-byte text included", () => {
    const out = `${a} blob 4\n.env\n${b} blob 9\nnaïve/x\n\n`;
    expect(parseCatFileBatch(out, [a, b])).toEqual(
      new Map([
        [a, ".env"],
        [b, "naïve/x\n"],
      ]),
    );
  });

  test.each([
    ["a size that does not add up", `${a} blob 99\n.env\n${b} blob 1\nx\n`],
    ["an object other than the one asked", `${b} blob 1\nx\n${a} blob 1\ny\n`],
    ["a missing object", `${a} missing\n${b} blob 1\nx\n`],
  ])("stops at %s: what follows counts as unreadable", (_name, out) => {
    expect(parseCatFileBatch(out, [a, b]).size).toBe(0);
  });
});
