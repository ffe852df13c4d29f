import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  artifactName,
  compareVersions,
  DEFAULT_DOWNLOAD_URL,
  type Platform,
  pickCompression,
  releaseFileUrl,
  repositoryWebUrl,
  TARGETS,
  withReleaseUrl,
} from "../../src/lib/release/metadata.ts";
import { parseSha256Sums, parseVersionFile, renderSha256Sums } from "../../src/lib/schema/release.ts";

const HASH_A = "a".repeat(64);
const HASH_B = "0123456789abcdef".repeat(4);

describe("artifactName", () => {
  const cases: [Partial<Platform>, string | null][] = [
    [{ os: "linux", arch: "x64", avx2: true }, "protocol-linux-x64"],
    [{ os: "linux", arch: "x64", avx2: false }, "protocol-linux-x64-baseline"],
    [{ os: "linux", arch: "arm64", avx2: false }, "protocol-linux-arm64"],
    [{ os: "linux", arch: "x64", musl: true, avx2: true }, "protocol-linux-x64-musl"],
    [{ os: "linux", arch: "x64", musl: true, avx2: false }, "protocol-linux-x64-musl"],
    [{ os: "linux", arch: "arm64", musl: true }, "protocol-linux-arm64-musl"],
    [{ os: "darwin", arch: "x64", avx2: false }, "protocol-darwin-x64"],
    [{ os: "darwin", arch: "arm64" }, "protocol-darwin-arm64"],
    [{ os: "linux", arch: "ia32" }, null],
    [{ os: "linux", arch: "riscv64" }, null],
    [{ os: "win32", arch: "x64" }, null],
    [{ os: "freebsd", arch: "x64" }, null],
  ];
  test.each(cases)("%o -> %p", (platform, expected) => {
    expect(artifactName({ os: "linux", arch: "x64", musl: false, avx2: true, ...platform })).toBe(expected);
  });

  test("every name it gives is a build target", () => {
    const names = new Set<string>(TARGETS.map((t) => t.artifact));
    for (const [, expected] of cases) if (expected) expect(names.has(expected)).toBe(true);
    expect(names.size).toBe(7);
  });
});

describe("releaseFileUrl", () => {
  test.each([
    ["https://github.com/o/r/releases", null, "VERSION", "https://github.com/o/r/releases/latest/download/VERSION"],
    [
      "https://github.com/o/r/releases/",
      "1.2.3",
      "SHA256SUMS",
      "https://github.com/o/r/releases/download/v1.2.3/SHA256SUMS",
    ],
    [
      "http://127.0.0.1:8080/rel",
      "v0.4.0",
      "protocol-linux-x64.xz",
      "http://127.0.0.1:8080/rel/download/v0.4.0/protocol-linux-x64.xz",
    ],
  ] as const)("%s %s %s", (base, version, file, expected) => {
    expect(releaseFileUrl(base, version, file)).toBe(expected);
  });
});

describe("compareVersions", () => {
  test.each([
    ["1.2.3", "1.2.3", 0],
    ["1.10.0", "1.9.9", 1],
    ["0.4.0", "0.10.0", -1],
    ["v2.0.0", "1.99.99", 1],
    ["0.1.0-dev", "0.1.0", -1],
    ["0.1.0", "0.1.0-rc.1", 1],
    ["0.1.0-rc.1", "0.1.0-rc.2", -1],
    ["1.0.0-rc.10", "1.0.0-rc.9", 1],
    ["1.0.0-rc.9", "v1.0.0-rc.10", -1],
  ] as const)("%s vs %s", (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });
});

describe("parseSha256Sums", () => {
  test("reads sha256sum's text and binary modes and round-trips through renderSha256Sums", () => {
    const sums = parseSha256Sums(`${HASH_A}  protocol-linux-x64\n${HASH_B.toUpperCase()} *protocol-linux-x64.xz\r\n\n`);
    expect([...sums]).toEqual([
      ["protocol-linux-x64", HASH_A],
      ["protocol-linux-x64.xz", HASH_B],
    ]);
    expect(renderSha256Sums(sums)).toBe(`${HASH_A}  protocol-linux-x64\n${HASH_B}  protocol-linux-x64.xz\n`);
    expect(parseSha256Sums(renderSha256Sums(sums))).toEqual(sums);
  });

  test.each([
    ["", "lists no files"],
    ["<html>Not Found</html>\n", "line 1"],
    [`${HASH_A.slice(1)}  protocol\n`, "sha256"],
    [`${HASH_A}  ../etc/passwd\n`, "plain file name"],
    [`${HASH_A}  ok\nnonsense\n`, "line 2"],
  ])("rejects %p", (text, message) => {
    expect(() => parseSha256Sums(text)).toThrow(message);
  });
});

describe("parseVersionFile", () => {
  test.each([
    ["0.4.0\n", "0.4.0"],
    [" 1.2.3-rc.1 ", "1.2.3-rc.1"],
  ])("%p -> %p", (text, version) => {
    expect(parseVersionFile(text)).toBe(version);
  });
  test.each(["", "v1.2.3", "latest", "<html>"])("rejects %p", (text) => {
    expect(() => parseVersionFile(text)).toThrow("VERSION");
  });
});

describe("pickCompression", () => {
  const all = new Map([
    ["p", HASH_A],
    ["p.xz", HASH_A],
    ["p.gz", HASH_A],
  ]);
  test.each([
    [all, true, "xz"],
    [all, false, "gz"],
    [
      new Map([
        ["p", HASH_A],
        ["p.gz", HASH_A],
      ]),
      true,
      "gz",
    ],
    [new Map([["p", HASH_A]]), true, "none"],
  ] as const)("%#", (sums, hasXz, expected) => {
    expect(pickCompression("p", sums, hasXz)).toBe(expected);
  });
});

describe("the release host is written in one place", () => {
  const root = join(import.meta.dir, "..", "..");
  const repository = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).repository;
  const releases = `${repositoryWebUrl(repository)}/releases`;

  test("package.json's repository gives the binary's default release host", () => {
    expect(DEFAULT_DOWNLOAD_URL).toBe(releases);
    expect(releases).toBe("https://github.com/protocol-sh/protocol/releases");
  });

  test.each([
    ["git+https://github.com/o/r.git", "https://github.com/o/r"],
    ["https://github.com/o/r", "https://github.com/o/r"],
    ["github:o/r", "https://github.com/o/r"],
    ["o/r.js", "https://github.com/o/r.js"],
  ])("repository %s is %s", (spec, web) => {
    expect(repositoryWebUrl({ url: spec })).toBe(web);
    expect(repositoryWebUrl(spec)).toBe(web);
  });

  test("a repository that is not on GitHub is refused (the release layout is GitHub's)", () => {
    expect(() => repositoryWebUrl("https://gitlab.com/o/r")).toThrow("is not a GitHub repository");
  });

  test("the repo's install.sh and every release URL in the README say the same (a fork changes package.json, then these)", () => {
    const script = readFileSync(join(root, "install.sh"), "utf8");
    expect(withReleaseUrl(script)).toBe(script);
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const urls = [...readme.matchAll(/https:\/\/github\.com\/[^/\s]+\/[^/\s]+\/releases/g)].map((m) => m[0]);
    expect(urls.length).toBeGreaterThan(0);
    expect(new Set(urls)).toEqual(new Set([releases]));
  });

  test("the build writes the configured host into the install.sh it ships", () => {
    expect(
      withReleaseUrl('#!/bin/sh\nDEFAULT_DOWNLOAD_URL="https://old.example/releases"\n', "https://fork.example/r"),
    ).toBe('#!/bin/sh\nDEFAULT_DOWNLOAD_URL="https://fork.example/r"\n');
  });
});
