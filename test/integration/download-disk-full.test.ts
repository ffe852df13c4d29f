/**
 * Issue 29 item 8: a release download that meets a full file system (ENOSPC, with no reserve left
 * to stop it first) fails as a disk-full error that names the partial file, and removes it.
 * A tmpfs mount (root) fills up for real; the host streams for ever.
 */
import { afterEach, beforeEach, expect } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOWNLOAD_DEFAULTS, downloadFile } from "../../src/lib/core/download.ts";
import { DiskFullError } from "../../src/lib/core/errors.ts";
import { HostileHost } from "../helpers/hostile-http.ts";
import { testNeeding } from "../helpers/needs.ts";
import { mountTmpfs, TMPFS_NEEDS, unmountTmpfs } from "../helpers/tmpfs.ts";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "protocol-dl-full-"));
});
afterEach(async () => {
  await unmountTmpfs();
  rmSync(root, { recursive: true, force: true });
});

testNeeding(TMPFS_NEEDS)(
  "a download that fills its file system fails as disk full, names the partial file and removes it",
  async () => {
    const small = await mountTmpfs(join(root, "small"), "2m");
    const host = new HostileHost({ kind: "forever" });
    try {
      const path = join(small, ".protocol-update-9.9.9-protocol-linux-x64");
      const error = await downloadFile(`${host.url}/protocol-linux-x64`, path, {
        ...DOWNLOAD_DEFAULTS,
        reserveBytes: 0,
      }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DiskFullError);
      expect((error as Error).message).toBe(
        `no space left on the file system of ${small} (the partial download ${path} was removed)`,
      );
      expect(existsSync(path)).toBe(false);
      expect(readdirSync(small)).toEqual([]);
    } finally {
      host.stop();
    }
  },
);
