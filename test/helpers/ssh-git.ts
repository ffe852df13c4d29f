import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, sh } from "./fixture.ts";
import { freePort } from "./git-daemon.ts";

/**
 * A real ssh git server on 127.0.0.1, as GitHub and GitLab behave with deploy keys: openssh's sshd
 * (its own config, host key and port, run in the foreground by the test) with the `git` user that
 * .ci/run creates. Each authorized key is forced through a gate that lets it read and write one
 * repo and answers "Repository not found" for any other, so a key offered for the wrong repo is
 * refused after it authenticated — exactly what makes one key for two repos fail on GitHub.
 */
export interface SshGitServer extends AsyncDisposable {
  port: number;
  /** ssh://git@127.0.0.1:PORT/<absolute path of a bare repo> */
  url(repo: string): string;
  /** Let this public key (the text of a .pub) reach this repo (its absolute path) and no other. */
  allow(publicKey: string, repo: string): void;
}

const SSHD = "/usr/sbin/sshd";

/**
 * Why the ssh git server cannot run here, or null: for describeNeeding (skipped with this reason
 * outside CI, failing under CI=true, where .ci/run sets the machine up).
 */
export function sshGitMissing(): string | null {
  if (!existsSync(SSHD)) return `${SSHD} is missing (apt-get install openssh-server; .ci/run installs it)`;
  if (process.getuid?.() !== 0) return "the ssh git server runs sshd, which needs root";
  if (Bun.spawnSync(["getent", "passwd", "git"]).exitCode !== 0)
    return "no git user: .ci/run creates it (useradd --shell /usr/bin/git-shell git)";
  return null;
}

export async function startSshGit(dir: string): Promise<SshGitServer> {
  const missing = sshGitMissing();
  if (missing) throw new Error(missing);
  const passwd = await sh(["getent", "passwd", "git"]);
  const gitHome = passwd.stdout.split(":")[5] ?? "/home/git";
  mkdirSync(dir, { recursive: true });
  // sshd runs the gate as the git user: it must reach the dir, the gate and the repos.
  chmodSync(dir, 0o755);
  const hostKey = join(dir, "ssh_host_ed25519_key");
  const made = await sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  if (made.exitCode !== 0) throw new Error(`ssh-keygen: ${made.stderr}`);
  const authorized = join(dir, "authorized_keys");
  writeFileSync(authorized, "");
  chmodSync(authorized, 0o644);
  // A forced command runs through the user's shell, git-shell, which runs only git's own commands
  // and the ones in ~git/git-shell-commands: the gate lives there.
  mkdirSync(join(gitHome, "git-shell-commands"), { recursive: true, mode: 0o755 });
  const gate = join(gitHome, "git-shell-commands", "protocol-gate");
  writeFileSync(
    gate,
    [
      "#!/bin/sh",
      "# $1: the one repo this key may use. SSH_ORIGINAL_COMMAND: \"git-upload-pack '<path>'\".",
      'allowed="$1"',
      'case "$SSH_ORIGINAL_COMMAND" in',
      "  \"git-upload-pack '$allowed'\") exec git -c safe.directory='*' upload-pack \"$allowed\" ;;",
      "  \"git-receive-pack '$allowed'\") exec git -c safe.directory='*' receive-pack \"$allowed\" ;;",
      "  *)",
      '    echo "ERROR: Repository not found." >&2',
      "    exit 1 ;;",
      "esac",
      "",
    ].join("\n"),
  );
  chmodSync(gate, 0o755);
  const port = await freePort();
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorized}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      "AllowUsers git",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "UsePAM no",
      "StrictModes no",
      "PermitRootLogin no",
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  mkdirSync("/run/sshd", { recursive: true });
  const child = Bun.spawn([SSHD, "-D", "-e", "-f", config], { stdout: "ignore", stderr: "pipe" });
  const up = await eventually(
    async () => (await sh(["ssh-keyscan", "-p", String(port), "127.0.0.1"])).stdout.includes("ssh-ed25519"),
    10_000,
  );
  if (!up) {
    child.kill();
    throw new Error(`sshd did not start: ${await new Response(child.stderr).text()}`);
  }
  return {
    port,
    url: (repo) => `ssh://git@127.0.0.1:${port}${repo}`,
    allow(publicKey, repo) {
      const line = `command="protocol-gate ${repo}",no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding ${publicKey.trim()}\n`;
      writeFileSync(authorized, readFileSync(authorized, "utf8") + line);
    },
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}
