import { describe, expect, test } from "bun:test";
import { diagnose } from "../../src/lib/core/causes.ts";
import { failureReason, stepFailure } from "../../src/lib/core/spawn.ts";

const COMPOSE_V1_ENGINE_DOWN = `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/urllib3/connectionpool.py", line 703, in urlopen
    httplib_response = self._make_request(
  File "/usr/lib/python3/dist-packages/docker/transport/unixconn.py", line 30, in connect
    sock.connect(self.unix_socket)
FileNotFoundError: [Errno 2] No such file or directory

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/docker/api/client.py", line 214, in _retrieve_server_version
    return self.version(api_version=False)["ApiVersion"]
docker.errors.DockerException: Error while fetching server API version: ('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))
`;

const UNTRACKED = `error: The following untracked working tree files would be overwritten by merge:
\tconfig/local.php
\tpublic/robots.txt
Please move or remove them before you merge.
Aborting
`;

describe("failureReason", () => {
  test.each([
    ["one line of stderr", "fatal: repository not found\n", 128, "repository not found"],
    [
      "the last lines that carry text, not the first",
      "warning: a\nnote: b\n\nfatal: c\nfatal: d\n",
      1,
      "note: b | c | d",
    ],
    ["the exit code for blank stderr", "\n \n", 3, "exit 3"],
    ["the exit code for empty stderr", "", 128, "exit 128"],
    ["no doubled prefix", "error: error: boom\n", 1, "boom"],
    [
      "the last line of a Python traceback",
      'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: bad value\n',
      1,
      "ValueError: bad value",
    ],
    [
      "no progress meters",
      "Receiving objects:  45% (9/20)\nfatal: early EOF\nReceiving objects: 100% (20/20), done.\n",
      128,
      "early EOF",
    ],
  ])("gives %s", (_name, stderr, exitCode, expected) => {
    expect(failureReason({ stderr, exitCode })).toBe(expected);
  });

  test("cuts a long reason to a sensible size", () => {
    expect(failureReason({ stderr: `${"x".repeat(5000)}\n`, exitCode: 1 }).length).toBeLessThanOrEqual(480);
  });

  test("a program killed by a signal says so", () => {
    expect(failureReason({ stderr: "", exitCode: 137, signal: "SIGKILL" })).toBe("killed by SIGKILL");
  });
});

describe("common causes get their own message and hint", () => {
  test.each([
    ["compose v1, engine down", COMPOSE_V1_ENGINE_DOWN, "engine-down", "the docker engine is not running", true],
    [
      "compose v2, engine down",
      "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
      "engine-down",
      "the docker engine is not running",
      true,
    ],
    [
      "the socket's permissions",
      "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get ...\n",
      "engine-permission",
      "permission denied on the docker engine's socket",
      true,
    ],
    [
      "a tag that is not in the registry",
      " web Pulling \n web Error \nError response from daemon: manifest for ghcr.io/acme/shop:v9 not found: manifest unknown: manifest unknown\n",
      "image-not-found",
      "image not found in its registry: Error response from daemon: manifest for ghcr.io/acme/shop:v9 not found",
      true,
    ],
    [
      "a registry that refuses the login",
      "Error response from daemon: Get https://ghcr.io/v2/: unauthorized: authentication required\n",
      "registry-auth",
      "the registry refused the credentials",
      true,
    ],
    [
      "DNS failure",
      "fatal: unable to access 'https://git.example.com/app.git/': Could not resolve host: git.example.com\n",
      "network",
      "the network or the host is unreachable: unable to access 'https://git.example.com/app.git/': Could not resolve host",
      true,
    ],
    [
      "connection refused",
      "ssh: connect to host 10.0.0.5 port 22: Connection refused\nfatal: Could not read from remote repository.\n",
      "network",
      "the network or the host is unreachable: ssh: connect to host 10.0.0.5 port 22: Connection refused",
      true,
    ],
    [
      "a deploy key the host does not know",
      "git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\n",
      "ssh-publickey",
      "the git host refused the ssh key",
      true,
    ],
    [
      "untracked files, with their names",
      UNTRACKED,
      "untracked-files",
      "untracked files in the way: config/local.php, public/robots.txt",
      false,
    ],
    [
      "a full disk",
      "failed to register layer: write /var/lib/docker/x: no space left on device\n",
      "disk-full",
      "no space left on the device",
      true,
    ],
  ])("%s", (_name, stderr, kind, message, infrastructure) => {
    const cause = diagnose(stderr);
    expect(cause?.kind).toBe(kind as never);
    expect(cause?.message).toStartWith(message);
    expect(cause?.infrastructure).toBe(infrastructure);
    expect(cause?.hint.length).toBeGreaterThan(10);
    expect(failureReason({ stderr, exitCode: 1 })).toBe(cause!.message);
  });

  test("an unknown failure has no cause", () => {
    expect(diagnose("yaml: line 3: mapping values are not allowed in this context\n")).toBeNull();
  });
});

describe("stepFailure", () => {
  test("names the step, puts the cause's hint before the caller's, and marks infrastructure", () => {
    const error = stepFailure(
      "docker-compose pull",
      { stderr: COMPOSE_V1_ENGINE_DOWN, exitCode: 1, signal: null },
      "the working copy was not moved",
    );
    expect(error.message).toBe(
      "docker-compose pull failed: the docker engine is not running (or not reachable at DOCKER_HOST)",
    );
    expect(error.hint).toEndWith("; the working copy was not moved");
    expect(error.infrastructure).toBe(true);
  });

  test("a failure of the commit itself is not infrastructure; a killed program is", () => {
    const invalid = stepFailure("docker compose up", { stderr: "yaml: invalid\n", exitCode: 15, signal: null });
    expect(invalid.infrastructure).toBe(false);
    expect(invalid.hint).toBeUndefined();
    expect(stepFailure("docker compose up", { stderr: "", exitCode: 137, signal: "SIGKILL" }).infrastructure).toBe(
      true,
    );
  });
});
