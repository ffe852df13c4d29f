/**
 * install.sh's OpenSSL path checks the signature over the trusted comment, as minisign does
 * (issue 24: skipping that check survived every test). A fast file of its own: one small release,
 * no xz, no optional tool (openssl is there wherever install.sh can check anything without minisign).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE_TOOLS, runInstallSh, toolsDir } from "../helpers/install-sh.ts";
import { ReleaseServer } from "../helpers/release-server.ts";

let server: ReleaseServer;
let root: string;
beforeAll(async () => {
  server = await ReleaseServer.start();
  await server.publish("1.1.0", { compressed: false });
  root = mkdtempSync(join(tmpdir(), "protocol-install-sig-"));
});
afterAll(() => {
  server.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("install.sh with OpenSSL (no minisign on the machine)", () => {
  test("refuses an old release served as a new one with its trusted comment rewritten, downloading no binary", async () => {
    server.downgrade("1.4.0", "1.1.0");
    server.requests.length = 0;
    const dir = join(root, "bin");
    const run = await runInstallSh(server, ["--dir", dir, "--version", "1.4.0"], {
      PATH: toolsDir(
        root,
        BASE_TOOLS.filter((tool) => tool !== "minisign"),
      ),
    });
    expect(run.stderr).toContain("the trusted comment of SHA256SUMS.minisig was changed; nothing was installed");
    expect(run.exitCode).toBe(1);
    expect(server.artifactRequests()).toEqual([]);
    expect(existsSync(join(dir, "protocol"))).toBe(false);
  });
});
