import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, sh } from "../helpers/fixture.ts";
import { BASE_TOOLS, INSTALL_SH, runInstallSh, toolsDir as toolsDirIn } from "../helpers/install-sh.ts";
import { testNeeding } from "../helpers/needs.ts";
import { fakeArtifact, makeSigningKey, ReleaseServer } from "../helpers/release-server.ts";

let server: ReleaseServer;
let root: string;
let dir: string;

beforeAll(async () => {
  server = await ReleaseServer.start();
  await server.publish("1.1.0");
  await server.publish("1.2.0");
});
afterAll(() => server.stop());
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "protocol-install-"));
  dir = join(root, "bin");
  server.requests.length = 0;
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const install = (args: string[] = [], env: Record<string, string> = {}) => runInstallSh(server, args, env);
const toolsDir = (tools: string[]) => toolsDirIn(root, tools);

const installed = () => sh([join(dir, "protocol"), "--version"]).then((r) => r.stdout.trim());

describe("install.sh (loopback release server, fake artifacts)", () => {
  test("installs the latest release for this machine, verified, from the .xz", async () => {
    const started = performance.now();
    const run = await install(["--dir", dir]);
    const ms = performance.now() - started;
    expect(run.exitCode).toBe(0);
    expect(await installed()).toBe("1.2.0");
    expect(run.stderr).toMatch(/installed protocol 1\.2\.0 \(protocol-linux-(x64|arm64)/);
    expect(server.artifactRequests()).toEqual([expect.stringMatching(/^protocol-linux-.*\.xz$/)]);
    // Nothing but the binary is left in the install dir (the temp dir lived there and is gone).
    expect(readdirSync(dir)).toEqual(["protocol"]);
    console.log(`install.sh from the loopback server took ${ms.toFixed(0)} ms`);
  });

  test("run twice, the second run says it is already installed and downloads no artifact", async () => {
    expect((await install(["--dir", dir])).exitCode).toBe(0);
    server.requests.length = 0;
    const again = await install([], { PROTOCOL_INSTALL_DIR: dir });
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain("already installed");
    expect(server.artifactRequests()).toEqual([]);
  });

  test("--version and PROTOCOL_VERSION pin a release", async () => {
    expect((await install(["--dir", dir, "--version", "v1.1.0"])).exitCode).toBe(0);
    expect(await installed()).toBe("1.1.0");
    expect((await install(["--dir", dir], { PROTOCOL_VERSION: "1.2.0" })).exitCode).toBe(0);
    expect(await installed()).toBe("1.2.0");
  });

  test("a checksum mismatch aborts and installs nothing", async () => {
    await server.publish("1.3.0");
    server.tamper("1.3.0", "*");
    const run = await install(["--dir", dir]);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain("checksum mismatch");
    expect(readdirSync(dir)).toEqual([]);
    await server.publish("1.2.0");
  });

  test("an unknown version is a clear error", async () => {
    const run = await install(["--dir", dir, "--version", "9.9.9"]);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain("download failed");
    expect(existsSync(join(dir, "protocol"))).toBe(false);
  });

  test("an unsupported platform (fake uname) gets a clear error and nothing is downloaded", async () => {
    const fakes = join(root, "fake-bin");
    mkdirSync(fakes);
    writeFileSync(join(fakes, "uname"), '#!/bin/sh\n[ "$1" = -s ] && echo Linux || echo riscv64\n', { mode: 0o755 });
    const run = await install(["--dir", dir], { PATH: `${fakes}:${process.env.PATH}` });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("unsupported CPU architecture: riscv64");
    expect(server.requests).toEqual([]);
  });

  test("a 32-bit userland on a 64-bit kernel (fake getconf) is refused", async () => {
    const fakes = join(root, "fake-bin");
    mkdirSync(fakes);
    writeFileSync(join(fakes, "getconf"), "#!/bin/sh\necho 32\n", { mode: 0o755 });
    const run = await install(["--dir", dir], { PATH: `${fakes}:${process.env.PATH}` });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("32-bit userland");
    expect(existsSync(join(dir, "protocol"))).toBe(false);
  });

  test("takes the .gz where xz is not installed", async () => {
    const run = await install(["--dir", dir], { PATH: toolsDir(BASE_TOOLS.filter((t) => t !== "xz")) });
    expect(run.exitCode).toBe(0);
    expect(server.artifactRequests()).toEqual([expect.stringMatching(/\.gz$/)]);
    expect(await installed()).toBe("1.2.0");
  });

  test("--help prints usage and installs nothing", async () => {
    const run = await install(["--help"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("Usage: install.sh");
    expect(server.requests).toEqual([]);
  });
});

describe("install.sh lint", () => {
  const shellcheck = Bun.which("shellcheck");
  testNeeding(shellcheck ? null : "shellcheck is not installed (apt-get install shellcheck)")(
    "passes shellcheck, and so do the other shell scripts the project ships",
    async () => {
      const scripts = [INSTALL_SH, join(REPO_ROOT, "scripts", "docker-env.sh"), join(REPO_ROOT, ".ci", "run")];
      const run = await sh([shellcheck!, ...scripts]);
      expect(run.stdout + run.stderr).toBe("");
      expect(run.exitCode).toBe(0);
    },
  );

  test("runs nothing when the download is truncated", async () => {
    const text = readFileSync(INSTALL_SH, "utf8");
    const truncated = text.slice(0, text.lastIndexOf('main "$@"'));
    const run = await sh(["bash", "-s", "--", "--help"], { input: truncated });
    expect(run.exitCode).toBe(0);
    expect(run.stdout + run.stderr).toBe("");
  });
});

const NO_MINISIGN = Bun.which("minisign") ? null : "minisign is not installed (apt-get install minisign)";

describe("install.sh checks the release's signature before it installs anything (issue 16)", () => {
  const refused = async (message: string, env: Record<string, string> = {}, version = "1.4.0") => {
    const run = await install(["--dir", dir, "--version", version], env);
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.stderr).toContain(message);
    expect(server.artifactRequests()).toEqual([]);
    expect(existsSync(join(dir, "protocol"))).toBe(false);
    return run;
  };
  beforeEach(async () => {
    await server.publish("1.4.0", { latest: false });
    server.requests.length = 0;
  });

  testNeeding(NO_MINISIGN)("verifies with minisign when it is installed", async () => {
    const run = await install(["--dir", dir, "--version", "1.4.0"], {
      PATH: toolsDir(BASE_TOOLS.filter((t) => t !== "openssl")),
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await installed()).toBe("1.4.0");
  });

  test("verifies with OpenSSL 3 where minisign is not installed", async () => {
    const run = await install(["--dir", dir, "--version", "1.4.0"], {
      PATH: toolsDir(BASE_TOOLS.filter((t) => t !== "minisign")),
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await installed()).toBe("1.4.0");
  });

  for (const checker of ["minisign", "openssl"] as const) {
    const other = checker === "minisign" ? "openssl" : "minisign";
    const env = () => ({ PATH: toolsDir(BASE_TOOLS.filter((t) => t !== other)) });
    const needs = testNeeding(checker === "minisign" ? NO_MINISIGN : null);
    needs(`${checker}: a checksum file re-signed by another key is refused`, async () => {
      await server.replaceRelease("1.4.0", fakeArtifact("1.4.0", "echo evil"), await makeSigningKey());
      await refused("SHA256SUMS is ", env());
    });
    needs(`${checker}: binaries and SHA256SUMS replaced together, the old signature kept, are refused`, async () => {
      await server.replaceRelease("1.4.0", fakeArtifact("1.4.0", "echo evil"), null);
      await refused(checker === "minisign" ? "not signed by the release key" : "does not match the file", env());
    });
  }

  test("a release without SHA256SUMS.minisig is refused", async () => {
    server.unsign("1.4.0");
    await refused("the release is not signed: ");
  });

  test("an older release's signed SHA256SUMS served as a new one is refused", async () => {
    server.replay("1.4.0", "1.1.0");
    await refused("SHA256SUMS served as release 1.4.0 was signed for release 1.1.0");
  });

  test("without a release key (none built in, no PROTOCOL_MINISIGN_PUBKEY) nothing is downloaded", async () => {
    await refused("has no release key", { PROTOCOL_MINISIGN_PUBKEY: "" });
    expect(server.requests).toEqual([]);
  });

  test("with neither minisign nor OpenSSL 3 it says what to install", async () => {
    await refused("neither minisign nor OpenSSL 3 is installed", {
      PATH: toolsDir(BASE_TOOLS.filter((t) => t !== "minisign" && t !== "openssl")),
    });
  });

  test("the latest release's version comes from the signed comment", async () => {
    await server.publish("1.5.0");
    const run = await install(["--dir", dir]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await installed()).toBe("1.5.0");
    expect(server.requests.some((p) => p.endsWith("/VERSION"))).toBe(false);
  });
});
