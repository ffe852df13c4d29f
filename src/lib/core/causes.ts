/**
 * Why a program failed, read from its stderr: the common causes operators meet (engine down, image
 * not found, registry auth, network, ssh key, untracked files, full disk) get their own one-line
 * message and hint; anything else keeps the meaningful tail of stderr, not its first line (compose
 * v1 starts with "Traceback", git lists the files *after* its first line).
 */

export type CauseKind =
  | "engine-down"
  | "engine-permission"
  | "image-not-found"
  | "registry-auth"
  | "network"
  | "ssh-publickey"
  | "untracked-files"
  | "disk-full";

export interface Cause {
  kind: CauseKind;
  message: string;
  hint: string;
  /** Not the commit's fault: retried with backoff, never quarantined, never rolled back. */
  infrastructure: boolean;
}

const MAX_LINE = 240;
const MAX_REASON = 480;
const TAIL_LINES = 3;

/** Progress meters of git and docker: never the reason. */
const PROGRESS = [
  /^(remote: )?([A-Z][a-z]+( [a-z]+)*: +(\d+% \(\d+\/\d+\)|\d+(, done)?\.?)|Total \d+ .*|\d+% \(\d+\/\d+\).*)/,
  /\b(Pulling|Pulled|Waiting|Downloading|Download complete|Extracting|Verifying Checksum|Pull complete|Already exists|Pulling fs layer|Digest: sha256|Status: )/,
  /^[\s⠀-⣿✔✘]*$/,
];

/** stderr's lines that carry text, progress meters left out. */
function textLines(stderr: string): string[] {
  return stderr
    .split(/\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !PROGRESS.some((re) => re.test(line)));
}

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** "error: x", "fatal: x", "ERROR: x" → "x": the report adds its own "error:". */
function withoutPrefix(line: string): string {
  return line.replace(/^((error|fatal|ERROR|Error|FATAL)(:| -) *)+/, "");
}

function firstMatch(lines: string[], pattern: RegExp): string | undefined {
  return lines.find((line) => pattern.test(line));
}

/** The files git lists under "untracked working tree files would be overwritten" (tab-indented). */
function untrackedNames(stderr: string): string[] {
  const lines = stderr.split("\n");
  const start = lines.findIndex((line) => /untracked working tree files would be (overwritten|removed)/.test(line));
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!/^\s+\S/.test(line)) break;
    names.push(line.trim());
  }
  return names;
}

const RULES: { kind: CauseKind; test: RegExp; make: (line: string, stderr: string) => Omit<Cause, "kind"> }[] = [
  {
    kind: "engine-permission",
    test: /permission denied while trying to connect to the docker (daemon|API)/i,
    make: () => ({
      message: "permission denied on the docker engine's socket",
      hint: "run protocol as root, or add the user to the docker group (then log in again)",
      infrastructure: true,
    }),
  },
  {
    kind: "engine-down",
    test: /Cannot connect to the Docker daemon|Is the docker daemon running|Error while fetching server API version|docker\.sock.*(connection refused|no such file)|failed to connect to the docker API/i,
    make: () => ({
      message: "the docker engine is not running (or not reachable at DOCKER_HOST)",
      hint: "start it (systemctl start docker) and check with docker info; protocol retries with backoff",
      infrastructure: true,
    }),
  },
  {
    kind: "disk-full",
    test: /no space left on device/i,
    make: (line) => ({
      message: `no space left on the device: ${line}`,
      hint: "free space (docker image prune, old logs); protocol retries with backoff",
      infrastructure: true,
    }),
  },
  {
    kind: "registry-auth",
    test: /unauthorized|authentication required|no basic auth credentials|incorrect username or password|denied: requested access/i,
    make: (line) => ({
      message: `the registry refused the credentials: ${line}`,
      hint: "docker login to that registry, or set PROTOCOL_DOCKER_USERNAME / PROTOCOL_DOCKER_PASSWORD",
      infrastructure: true,
    }),
  },
  {
    kind: "image-not-found",
    test: /manifest unknown|manifest for \S+ not found|pull access denied|repository does not exist|not found: manifest|No such image/i,
    make: (line) => ({
      message: `image not found in its registry: ${line}`,
      hint: "check the image name and tag in the compose file and that it was pushed (or log in: pull access denied can mean a private image); protocol retries",
      infrastructure: true,
    }),
  },
  {
    kind: "ssh-publickey",
    test: /Permission denied \(publickey/,
    make: () => ({
      message: "the git host refused the ssh key (Permission denied (publickey))",
      hint: "add the deploy key to the repository (protocol key:generate prints it), or set git.key",
      infrastructure: true,
    }),
  },
  {
    kind: "network",
    test: /Could not resolve host|Temporary failure in name resolution|no such host|Name or service not known|Connection refused|Connection timed out|Network is unreachable|No route to host|i\/o timeout|TLS handshake timeout|connection reset by peer|Could not read from remote repository/i,
    make: (line) => ({
      message: `the network or the host is unreachable: ${line}`,
      hint: "check the network, DNS and the host; protocol retries with backoff",
      infrastructure: true,
    }),
  },
  {
    kind: "untracked-files",
    test: /untracked working tree files would be (overwritten|removed)/,
    make: (_line, stderr) => {
      const names = untrackedNames(stderr);
      return {
        message: `untracked files in the way: ${names.length > 0 ? names.join(", ") : "(git did not list them)"}`,
        hint: "move them aside (or commit them), or run with --on-dirty=stash",
        infrastructure: false,
      };
    },
  },
];

/** The known cause in a program's stderr, or null. */
export function diagnose(stderr: string): Cause | null {
  const lines = textLines(stderr);
  for (const rule of RULES) {
    const line = firstMatch(lines, rule.test);
    if (line !== undefined) {
      const made = rule.make(cut(withoutPrefix(line), MAX_LINE), stderr);
      return { kind: rule.kind, ...made, message: cut(made.message, MAX_REASON) };
    }
  }
  return null;
}

/**
 * The reason for a one-line error: a known cause's message, else the last lines of stderr that
 * carry text (a Python traceback gives its last line only), cut to a sensible size, else the exit.
 */
export function describeFailure(stderr: string, exitCode: number, signal: string | null = null): string {
  return diagnose(stderr)?.message ?? stderrTail(stderr, exitCode, signal);
}

/** The last lines of stderr that carry text (no cause recognised), else how the program ended. */
export function stderrTail(stderr: string, exitCode: number, signal: string | null = null): string {
  let lines = textLines(stderr);
  if (lines.some((line) => line.startsWith("Traceback (most recent call last)"))) lines = lines.slice(-1);
  const tail = lines.slice(-TAIL_LINES).map((line) => cut(withoutPrefix(line), MAX_LINE));
  if (tail.length > 0) return cut(tail.join(" | "), MAX_REASON);
  return signal ? `killed by ${signal}` : `exit ${exitCode}`;
}
