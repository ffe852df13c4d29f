import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/lib/core/errors.ts";
import { execArgs, logsArgs, nginxLogsCommand } from "../../src/lib/docker/compose-attach.ts";
import { pickNginxService, pickService } from "../../src/lib/docker/compose-service.ts";
import {
  type CredentialSources,
  loginArgv,
  loginRegistry,
  resolveDockerCredentials,
} from "../../src/lib/docker/login.ts";
import { builtServiceImage } from "../../src/lib/docker/parse/compose-config.ts";

describe("pickService", () => {
  test.each([
    ["web", "app", ["db"], "web"],
    [undefined, "app", ["db"], "app"],
    [undefined, undefined, ["db", "web"], "db"],
    [undefined, undefined, ["only"], "only"],
    ["", "app", [], "app"],
  ] as const)("flag %p, docker.service %p, services %j → %s", (flag, configured, services, expected) => {
    expect(pickService(flag, configured, services)).toBe(expected);
  });

  test("no flag, no docker.service and no services is a config error that names both", () => {
    expect(() => pickService(undefined, undefined, [])).toThrow(ConfigError);
    expect(() => pickService(undefined, undefined, [])).toThrow("defines no services");
  });
});

describe("pickNginxService", () => {
  test.each([
    ["proxy", "app", ["app", "nginx"], "proxy"],
    [undefined, "app", ["app", "nginx"], "nginx"],
    [undefined, "app", ["app", "db"], "app"],
    [undefined, undefined, ["web", "db"], "web"],
  ] as const)("flag %p, docker.service %p, services %j → %s", (flag, configured, services, expected) => {
    expect(pickNginxService(flag, configured, services)).toBe(expected);
  });
});

describe("compose argv", () => {
  test.each([
    [["bash"], true, ["exec", "web", "bash"]],
    [["bash"], false, ["exec", "-T", "web", "bash"]],
    [["php", "-r", "echo 1;"], false, ["exec", "-T", "web", "php", "-r", "echo 1;"]],
  ])("exec %j with a TTY %p", (command, tty, expected) => {
    expect(execArgs("web", command, tty)).toEqual(expected);
  });

  test.each([
    [{}, ["logs", "--follow"]],
    [{ service: "web" }, ["logs", "--follow", "web"]],
    [{ tail: 0 }, ["logs", "--follow", "--tail", "0"]],
    [{ service: "web", tail: 20 }, ["logs", "--follow", "--tail", "20", "web"]],
  ])("logs %j", (options, expected) => {
    expect(logsArgs(options)).toEqual(expected);
  });

  test("nginx logs follow both files across rotation", () => {
    expect(nginxLogsCommand()).toEqual(["tail", "-F", "/var/log/nginx/access.log", "/var/log/nginx/error.log"]);
    expect(nginxLogsCommand(5)).toEqual([
      "tail",
      "-n",
      "5",
      "-F",
      "/var/log/nginx/access.log",
      "/var/log/nginx/error.log",
    ]);
  });
});

describe("resolveDockerCredentials", () => {
  const none: CredentialSources = { env: {}, dotenv: null, config: {} };
  const dotenv = (values: Record<string, string>) => ({ path: "/srv/app/.env", values });

  test.each([
    ["nothing anywhere: docker's credential store", none, null],
    [
      "the environment",
      { ...none, env: { PROTOCOL_DOCKER_USERNAME: "u", PROTOCOL_DOCKER_PASSWORD: "p" } },
      { username: "u", password: "p", source: "the environment" },
    ],
    [
      "the environment before the dotenv file and protocol.json",
      {
        env: { PROTOCOL_DOCKER_USERNAME: "env", PROTOCOL_DOCKER_PASSWORD: "env-pw" },
        dotenv: dotenv({ PROTOCOL_DOCKER_USERNAME: "file", PROTOCOL_DOCKER_PASSWORD: "file-pw" }),
        config: { username: "json", password: "json-pw" },
      },
      { username: "env", password: "env-pw", source: "the environment" },
    ],
    [
      "the dotenv file before protocol.json",
      {
        env: {},
        dotenv: dotenv({ PROTOCOL_DOCKER_USERNAME: "file", PROTOCOL_DOCKER_PASSWORD: "file-pw" }),
        config: { username: "json", password: "json-pw" },
      },
      { username: "file", password: "file-pw", source: "/srv/app/.env" },
    ],
    [
      "protocol.json last",
      { ...none, config: { username: "json", password: "json-pw" } },
      { username: "json", password: "json-pw", source: "protocol.json" },
    ],
    [
      "the username in protocol.json, the password from the environment",
      { env: { PROTOCOL_DOCKER_PASSWORD: "env-pw" }, dotenv: null, config: { username: "json" } },
      { username: "json", password: "env-pw", source: "the environment" },
    ],
    [
      "empty variables count as unset",
      {
        ...none,
        env: { PROTOCOL_DOCKER_USERNAME: "", PROTOCOL_DOCKER_PASSWORD: "" },
        config: { username: "json", password: "json-pw" },
      },
      { username: "json", password: "json-pw", source: "protocol.json" },
    ],
    ["a username without a password: the credential store", { ...none, config: { username: "json" } }, null],
  ])("%s", (_, sources, expected) => {
    expect(resolveDockerCredentials(sources as CredentialSources)).toEqual(expected);
  });
});

describe("docker login", () => {
  test.each([
    ["nginx", null],
    ["acme/shop:latest", null],
    ["docker.io/acme/shop", null],
    ["ghcr.io/acme/shop:prod", "ghcr.io"],
    ["127.0.0.1:5000/shop", "127.0.0.1:5000"],
    ["localhost/shop", "localhost"],
  ])("%s logs in to %p", (image, registry) => {
    expect(loginRegistry(image)).toBe(registry);
  });

  test("an invalid docker.image is a config error naming the key", () => {
    expect(() => loginRegistry("Not An Image")).toThrow("docker.image");
  });

  test("the password is never in the argv: it goes through --password-stdin", () => {
    expect(loginArgv("deploy", "ghcr.io")).toEqual([
      "docker",
      "login",
      "--username",
      "deploy",
      "--password-stdin",
      "ghcr.io",
    ]);
    expect(loginArgv("deploy", null)).toEqual(["docker", "login", "--username", "deploy", "--password-stdin"]);
  });
});

describe("builtServiceImage", () => {
  const config = [
    "services:",
    "  db:",
    "    image: postgres:16",
    "  web:",
    "    build:",
    "      context: .",
    "  worker:",
    "    build: ./worker",
    "    image: acme/worker:latest",
    "",
  ].join("\n");

  test.each([
    [undefined, 2, "shop-web"],
    [undefined, 1, "shop_web"],
    ["web", 2, "shop-web"],
    ["worker", 2, "acme/worker:latest"],
  ] as const)("service %p with compose v%p → %s", (service, version, expected) => {
    expect(builtServiceImage(config, "shop", version, service)).toBe(expected);
  });

  test.each([
    ["db", "has no build section"],
    ["nope", 'no service "nope"'],
  ])("service %s is a config error: %s", (service, message) => {
    expect(() => builtServiceImage(config, "shop", 2, service)).toThrow(message);
  });

  test("a compose file with nothing to build is a config error pointing at docker.local", () => {
    expect(() => builtServiceImage("services:\n  db:\n    image: postgres\n", "shop", 2)).toThrow("nothing to tag");
  });
});
