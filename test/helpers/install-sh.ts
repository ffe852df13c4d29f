/** Running the repo's install.sh as a node does (`curl … | bash`), against a ReleaseServer, on a minimal PATH. */
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, sh } from "./fixture.ts";
import type { ReleaseServer } from "./release-server.ts";

export const INSTALL_SH = join(REPO_ROOT, "install.sh");

/** `curl … | bash` as a node runs it: the script on stdin, no TTY. */
export function runInstallSh(server: ReleaseServer, args: string[] = [], env: Record<string, string> = {}) {
  return sh(["bash", "-s", "--", ...args], {
    input: readFileSync(INSTALL_SH, "utf8"),
    env: { PROTOCOL_DOWNLOAD_URL: server.base, PROTOCOL_MINISIGN_PUBKEY: server.publicKey, ...env },
  });
}

/** What install.sh runs (minisign or openssl check the signature): the PATH of a minimal machine. */
export const BASE_TOOLS = [
  "bash",
  "curl",
  "uname",
  "getconf",
  "grep",
  "awk",
  "sha256sum",
  "cut",
  "tr",
  "mkdir",
  "mktemp",
  "rm",
  "chmod",
  "mv",
  "id",
  "gzip",
  "xz",
  "cat",
  "sh",
  "sed",
  "head",
  "tail",
  "od",
  "wc",
  "base64",
  "df",
  "minisign",
  "openssl",
];

/** A PATH (`<root>/tools`) holding only these programs (links to the machine's own). */
export function toolsDir(root: string, tools: string[]): string {
  const path = join(root, "tools");
  mkdirSync(path, { recursive: true });
  for (const tool of tools) {
    const found = Bun.which(tool);
    if (found) symlinkSync(found, join(path, tool));
  }
  return path;
}
