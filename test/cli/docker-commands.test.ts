import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FAKE_DOCKER_DIR, Fixture, REPO_ROOT } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create({ files: { "docker-compose.yml": "services: {}\n" } })));
afterEach(async () => fx[Symbol.asyncDispose]());

const COMPOSE = ["compose", "--project-name", "shop", "--file", "docker-compose.yml"];

/** docker.project pinned to "shop": these tests are about the commands; the default name has its own tests. */
function protocolJson(config: Record<string, unknown>): void {
  const docker = { project: "shop", ...(config.docker as Record<string, unknown> | undefined) };
  writeFileSync(join(fx.node, "protocol.json"), JSON.stringify({ name: "shop", ...config, docker }));
}

/** Run protocol against the node with the fake docker; returns the run and docker's calls after `compose version`. */
async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const run = await fx.cli(["--dir", fx.node, ...args], { fakeDocker: true, env });
  const calls = fx.dockerCalls().filter((argv) => !(argv[0] === "compose" && argv[1] === "version"));
  return { ...run, calls };
}

describe("compose v1 (fake docker-compose v1, no v2 plugin)", () => {
  const V1 = join(REPO_ROOT, "test", "fixtures", "fake-compose-v1");
  const v1 = (args: string[]) =>
    fx.cli(["--dir", fx.node, ...args], {
      env: { PATH: `${FAKE_DOCKER_DIR}:${V1}:${process.env.PATH}`, FAKE_DOCKER_NO_COMPOSE: "1" },
    });
  const said = (stderr: string) => stderr.split("using docker-compose v1").length - 1;

  test("the fallback is not a warning on every command or deploy: once per process, at debug (--verbose)", async () => {
    // A deploy looks compose up several times (the move's check, the pre-pull, up): said once, with --verbose.
    await fx.push({ "protocol.json": JSON.stringify({ name: "shop", docker: { project: "shop" } }) });
    const pull = await v1(["git:pull", "--verbose"]);
    expect(pull.exitCode, pull.stderr).toBe(0);
    expect(pull.stderr).toContain("deployed");
    expect(said(pull.stderr)).toBe(1);
    const down = await v1(["docker:compose:down"]);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(said(down.stderr)).toBe(0);
    expect(fx.dockerCalls()).toContainEqual([...COMPOSE, "down"]);
    const up = await v1(["docker:compose"]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(said(up.stderr)).toBe(0);
  });
});

describe("compose commands (fake docker)", () => {
  beforeEach(() => protocolJson({}));

  test("docker:compose runs up -d with the fixed project name and the compose file", async () => {
    const run = await cli(["docker:compose"]);
    expect(run.exitCode).toBe(0);
    expect(run.calls).toEqual([[...COMPOSE, "up", "-d"]]);
  });

  test("docker:compose:down runs down", async () => {
    const run = await cli(["docker:compose:down"]);
    expect(run.exitCode).toBe(0);
    expect(run.calls).toEqual([[...COMPOSE, "down"]]);
  });

  test("docker:compose:rebuild pulls, then builds and recreates", async () => {
    const run = await cli(["docker:compose:rebuild"]);
    expect(run.exitCode).toBe(0);
    expect(run.calls).toEqual([
      [...COMPOSE, "pull"],
      [...COMPOSE, "up", "-d", "--build", "--force-recreate"],
    ]);
  });

  test("docker:compose:rebuild stops when the pull fails and recreates nothing", async () => {
    const run = await cli(["docker:compose:rebuild"], { FAKE_DOCKER_FAIL: "pull" });
    expect(run.exitCode).toBe(6);
    expect(run.calls).toEqual([[...COMPOSE, "pull"]]);
  });

  test("every file of docker.compose is passed as --file, in order", async () => {
    protocolJson({ docker: { compose: ["compose.yaml", "compose.prod.yaml"] } });
    const run = await cli(["docker:compose"]);
    expect(run.calls).toEqual([
      ["compose", "--project-name", "shop", "--file", "compose.yaml", "--file", "compose.prod.yaml", "up", "-d"],
    ]);
  });
});

describe("docker:build (fake docker)", () => {
  test("builds docker.local's Dockerfile dir tagged docker.image", async () => {
    mkdirSync(join(fx.node, "docker"));
    protocolJson({ docker: { image: "registry.example.com/acme/shop:latest", local: "docker" } });
    const run = await cli(["docker:build"]);
    expect(run.exitCode).toBe(0);
    expect(run.calls).toEqual([
      ["build", "--tag", "registry.example.com/acme/shop:latest", "--", join(fx.node, "docker")],
    ]);
  });

  test("docker.local without docker.image is a config error naming docker.image, and builds nothing", async () => {
    mkdirSync(join(fx.node, "docker"));
    protocolJson({ docker: { local: "docker" } });
    const run = await cli(["docker:build"]);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("docker.image");
    expect(run.stderr).toContain("hint:");
    expect(run.calls).toEqual([]);
  });

  test("without docker.local it runs compose build and tags the built service's image as docker.image", async () => {
    protocolJson({ docker: { image: "registry.example.com/acme/shop:latest" } });
    const config = "services:\n  db:\n    image: postgres:16\n  web:\n    build: .\n";
    const run = await cli(["docker:build"], { FAKE_DOCKER_CONFIG: config });
    expect(run.exitCode).toBe(0);
    expect(run.calls).toEqual([
      [...COMPOSE, "build"],
      [...COMPOSE, "config"],
      ["tag", "--", "shop-web", "registry.example.com/acme/shop:latest"],
    ]);
  });

  test("a service whose image: already is docker.image needs no extra tag", async () => {
    protocolJson({ docker: { image: "acme/shop:latest", service: "web" } });
    const config = "services:\n  web:\n    build: .\n    image: acme/shop:latest\n";
    const run = await cli(["docker:build"], { FAKE_DOCKER_CONFIG: config });
    expect(run.exitCode).toBe(0);
    expect(run.calls.map((argv) => argv.at(COMPOSE.length) ?? argv[0])).toEqual(["build", "config"]);
  });

  test("without docker.image the compose build is all there is", async () => {
    protocolJson({});
    const run = await cli(["docker:build", "--service", "web"]);
    expect(run.exitCode).toBe(0);
    expect(run.calls).toEqual([[...COMPOSE, "build", "web"]]);
  });
});

describe("docker:push / docker:pull (fake docker)", () => {
  const image = "registry.example.com/acme/shop:latest";

  test("logs in with the password on stdin, never in argv, then pushes docker.image", async () => {
    protocolJson({ docker: { image } });
    const run = await cli(["docker:push"], {
      PROTOCOL_DOCKER_USERNAME: "deploy",
      PROTOCOL_DOCKER_PASSWORD: "s3cret-pw",
    });
    expect(run.exitCode).toBe(0);
    expect(run.calls).toEqual([
      ["login", "--username", "deploy", "--password-stdin", "registry.example.com"],
      ["push", "--", image],
    ]);
    expect(JSON.stringify(run.calls)).not.toContain("s3cret-pw");
    expect(run.stderr).not.toContain("s3cret-pw");
    expect(fx.dockerStdin()).toEqual([
      { argv: ["login", "--username", "deploy", "--password-stdin", "registry.example.com"], stdin: "s3cret-pw" },
    ]);
  });

  test("reads the credentials from the app's .env file when the environment has none", async () => {
    protocolJson({ docker: { image: "acme/shop:prod" } });
    writeFileSync(join(fx.node, ".env"), "PROTOCOL_DOCKER_USERNAME=acme\nPROTOCOL_DOCKER_PASSWORD='from file'\n");
    const run = await cli(["docker:pull"]);
    expect(run.exitCode).toBe(0);
    // Docker Hub: docker login's default registry, so no server argument.
    expect(run.calls).toEqual([
      ["login", "--username", "acme", "--password-stdin"],
      ["pull", "--", "acme/shop:prod"],
    ]);
    expect(fx.dockerStdin().map((entry) => entry.stdin)).toEqual(["from file"]);
  });

  test("a password in protocol.json is used through stdin and warned about", async () => {
    protocolJson({ docker: { image, username: "acme", password: "in-the-file" } });
    const run = await cli(["docker:push"]);
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain("docker.password");
    expect(JSON.stringify(run.calls)).not.toContain("in-the-file");
    expect(fx.dockerStdin().map((entry) => entry.stdin)).toEqual(["in-the-file"]);
  });

  test("without credentials it leaves login to docker's credential store", async () => {
    protocolJson({ docker: { image } });
    const run = await cli(["docker:pull"]);
    expect(run.exitCode).toBe(0);
    expect(run.calls).toEqual([["pull", "--", image]]);
  });

  test("a failed login exits 6 and pushes nothing", async () => {
    protocolJson({ docker: { image } });
    const run = await cli(["docker:push"], {
      PROTOCOL_DOCKER_USERNAME: "deploy",
      PROTOCOL_DOCKER_PASSWORD: "wrong",
      FAKE_DOCKER_FAIL: "login",
    });
    expect(run.exitCode).toBe(6);
    expect(run.stderr).toContain("docker login to registry.example.com failed");
    expect(run.calls.map((argv) => argv[0])).toEqual(["login"]);
  });

  test("without docker.image they fall back to compose push / pull", async () => {
    protocolJson({});
    expect((await cli(["docker:push"])).calls).toEqual([[...COMPOSE, "push"]]);
    expect((await cli(["docker:pull"])).calls.at(-1)).toEqual([...COMPOSE, "pull"]);
  });
});

describe("docker:logs and nginx:logs (fake docker)", () => {
  test("docker:logs follows every service, or one with --tail", async () => {
    protocolJson({});
    expect((await cli(["docker:logs"])).calls).toEqual([[...COMPOSE, "logs", "--follow"]]);
    const one = await cli(["docker:logs", "--service", "web", "--tail", "50"]);
    expect(one.exitCode).toBe(0);
    expect(one.calls.at(-1)).toEqual([...COMPOSE, "logs", "--follow", "--tail", "50", "web"]);
  });

  test("docker:logs exits with compose's exit code", async () => {
    protocolJson({});
    const run = await cli(["docker:logs"], { FAKE_DOCKER_FAIL: "logs" });
    expect(run.exitCode).toBe(1);
  });

  test("a bad --tail is a usage error", async () => {
    protocolJson({});
    const run = await cli(["docker:logs", "--tail", "lots"]);
    expect(run.exitCode).toBe(2);
    expect(run.calls).toEqual([]);
  });

  test("nginx:logs tails nginx's log files in the nginx service when there is one", async () => {
    protocolJson({ docker: { service: "app" } });
    const run = await cli(["nginx:logs"], { FAKE_DOCKER_SERVICES: "app,nginx" });
    expect(run.exitCode).toBe(0);
    expect(run.calls).toEqual([
      [...COMPOSE, "config", "--services"],
      [...COMPOSE, "exec", "-T", "nginx", "tail", "-F", "/var/log/nginx/access.log", "/var/log/nginx/error.log"],
    ]);
  });

  test("nginx:logs falls back to docker.service, and --service wins over both", async () => {
    protocolJson({ docker: { service: "app" } });
    const fallback = await cli(["nginx:logs", "--tail", "100"], { FAKE_DOCKER_SERVICES: "app,db" });
    expect(fallback.calls.at(-1)).toEqual([
      ...COMPOSE,
      "exec",
      "-T",
      "app",
      "tail",
      "-n",
      "100",
      "-F",
      "/var/log/nginx/access.log",
      "/var/log/nginx/error.log",
    ]);
    const chosen = await cli(["nginx:logs", "--service", "proxy"], { FAKE_DOCKER_SERVICES: "app,nginx" });
    expect(chosen.calls.at(-1)?.slice(COMPOSE.length, COMPOSE.length + 3)).toEqual(["exec", "-T", "proxy"]);
  });
});

describe("exec (fake docker)", () => {
  test("runs the command in docker.service with -T when stdin is not a terminal", async () => {
    protocolJson({ docker: { service: "php" } });
    const run = await cli(["exec", "--", "php", "-v"]);
    expect(run.exitCode).toBe(0);
    expect(run.calls).toEqual([[...COMPOSE, "exec", "-T", "php", "php", "-v"]]);
  });

  test("without docker.service it uses the first service compose lists; --service overrides", async () => {
    protocolJson({});
    const first = await cli(["exec", "ls"], { FAKE_DOCKER_SERVICES: "web,db" });
    expect(first.calls).toEqual([
      [...COMPOSE, "config", "--services"],
      [...COMPOSE, "exec", "-T", "web", "ls"],
    ]);
    const chosen = await cli(["exec", "--service", "db", "ls"], { FAKE_DOCKER_SERVICES: "web,db" });
    expect(chosen.calls.at(-1)).toEqual([...COMPOSE, "exec", "-T", "db", "ls"]);
  });

  test("a compose file with no services is a config error", async () => {
    protocolJson({});
    const run = await cli(["exec", "ls"]);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("--service");
  });

  test("exits with the container command's exit code", async () => {
    protocolJson({ docker: { service: "web" } });
    const run = await cli(["exec", "--", "false"], { FAKE_DOCKER_EXEC_EXIT: JSON.stringify({ false: 3 }) });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).not.toContain("error:");
  });

  test("without a command it opens bash", async () => {
    protocolJson({ docker: { service: "web" } });
    const run = await cli(["exec"]);
    expect(run.exitCode).toBe(0);
    expect(run.calls).toEqual([[...COMPOSE, "exec", "-T", "web", "bash"]]);
  });

  test("falls back to sh when the container has no bash, and returns sh's exit code", async () => {
    protocolJson({ docker: { service: "web" } });
    const run = await cli(["exec"], { FAKE_DOCKER_EXEC_EXIT: JSON.stringify({ bash: 127, sh: 5 }) });
    expect(run.calls).toEqual([
      [...COMPOSE, "exec", "-T", "web", "bash"],
      [...COMPOSE, "exec", "-T", "web", "sh"],
    ]);
    expect(run.exitCode).toBe(5);
  });

  test("a command's own -h after -- goes to the command, not to protocol's help", async () => {
    protocolJson({ docker: { service: "web" } });
    const run = await cli(["exec", "--", "php", "-h"]);
    expect(run.stdout).not.toContain("USAGE");
    expect(run.calls).toEqual([[...COMPOSE, "exec", "-T", "web", "php", "-h"]]);
  });
});

describe("help and list", () => {
  const commands = [
    "docker:build",
    "docker:push",
    "docker:pull",
    "docker:compose",
    "docker:compose:down",
    "docker:compose:rebuild",
    "docker:logs",
    "nginx:logs",
    "exec",
    "doctor",
  ];

  test.each(commands)("%s --help prints its usage and exits 0", async (name) => {
    const run = await fx.cli([name, "--help"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("USAGE");
    expect(run.stdout).toContain(name);
    expect(run.stdout).toContain("--dir");
  });

  test("list names every docker command", async () => {
    const names = JSON.parse((await fx.cli(["list", "--json"])).stdout).map((row: { name: string }) => row.name);
    expect(names).toEqual(expect.arrayContaining(commands));
  });
});
