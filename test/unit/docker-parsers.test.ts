import { describe, expect, test } from "bun:test";
import { DOCKER_HUB, isFloating, isLoopbackRegistry, parseImageRef } from "../../src/lib/docker/parse/image-ref.ts";
import { type ContainerInfo, digestFor, judgeHealth, parseContainers } from "../../src/lib/docker/parse/inspect.ts";
import { parseRetryAfter, parseWwwAuthenticate } from "../../src/lib/docker/parse/www-authenticate.ts";

const D = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("parseImageRef", () => {
  test.each([
    ["nginx", { registry: DOCKER_HUB, repository: "library/nginx", tag: "latest", digest: null }],
    ["nginx:1.27", { registry: DOCKER_HUB, repository: "library/nginx", tag: "1.27", digest: null }],
    ["acme/shop:prod", { registry: DOCKER_HUB, repository: "acme/shop", tag: "prod", digest: null }],
    ["docker.io/library/redis", { registry: DOCKER_HUB, repository: "library/redis", tag: "latest", digest: null }],
    ["ghcr.io/acme/shop/web:v2", { registry: "ghcr.io", repository: "acme/shop/web", tag: "v2", digest: null }],
    [
      "127.0.0.1:5000/e2e/app:latest",
      { registry: "127.0.0.1:5000", repository: "e2e/app", tag: "latest", digest: null },
    ],
    ["localhost/app", { registry: "localhost", repository: "app", tag: "latest", digest: null }],
    [
      `registry.example.com:443/app@${D}`,
      { registry: "registry.example.com:443", repository: "app", tag: null, digest: D },
    ],
    [`app:1@${D}`, { registry: DOCKER_HUB, repository: "library/app", tag: "1", digest: D }],
  ])("parses %s", (reference, expected) => {
    expect(parseImageRef(reference)).toEqual(expected);
  });

  test.each([[""], ["Upper/Case"], ["app:bad tag"], ["app@sha256:short"], ["app:"]])("rejects %p", (reference) => {
    expect(() => parseImageRef(reference)).toThrow();
  });

  test("a tag floats, a digest does not", () => {
    expect(isFloating(parseImageRef("app:latest"))).toBe(true);
    expect(isFloating(parseImageRef(`app@${D}`))).toBe(false);
    expect(isFloating(parseImageRef(`app:1@${D}`))).toBe(false);
  });

  test.each([
    ["127.0.0.1:5000", true],
    ["127.8.9.10", true],
    ["localhost:5000", true],
    ["[::1]:5000", true],
    ["registry.example.com", false],
    ["10.0.0.5:5000", false],
  ])("%s is a loopback registry: %p", (registry, expected) => {
    expect(isLoopbackRegistry(registry)).toBe(expected);
  });
});

describe("WWW-Authenticate and Retry-After", () => {
  test("parses a Docker Hub bearer challenge", () => {
    const header =
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"';
    expect(parseWwwAuthenticate(header)).toEqual({
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:library/nginx:pull",
      },
    });
  });

  test("parses basic with an unquoted param, and nothing from nothing", () => {
    expect(parseWwwAuthenticate("Basic realm=Registry")).toEqual({ scheme: "basic", params: { realm: "Registry" } });
    expect(parseWwwAuthenticate(null)).toBeNull();
    expect(parseWwwAuthenticate("")).toBeNull();
  });

  test.each([
    ["120", 120],
    ["0", 0],
    [new Date(Date.UTC(2030, 0, 1, 0, 1)).toUTCString(), 60],
    ["soon", null],
    [null, null],
  ])("Retry-After %p is %p seconds", (header, expected) => {
    expect(parseRetryAfter(header, Date.UTC(2030, 0, 1))).toBe(expected);
  });
});

describe("docker inspect", () => {
  const inspect = JSON.stringify([
    {
      Id: "c1",
      Image: "sha256:img1",
      Config: { Image: "127.0.0.1:5000/e2e/app:latest", Labels: { "com.docker.compose.service": "app" } },
      State: { Status: "running", Running: true, ExitCode: 0, Health: { Status: "healthy" } },
    },
    {
      Id: "c2",
      Image: "sha256:img2",
      Config: {
        Image: "busybox",
        Labels: { "com.docker.compose.service": "job", "com.docker.compose.oneoff": "True" },
      },
      State: { Status: "exited", Running: false, ExitCode: 0 },
    },
  ]);

  test("reads service containers and leaves one-off run containers out", () => {
    expect(parseContainers(inspect)).toEqual([
      {
        id: "c1",
        service: "app",
        image: "127.0.0.1:5000/e2e/app:latest",
        imageId: "sha256:img1",
        status: "running",
        running: true,
        exitCode: 0,
        health: "healthy",
        startedAt: null,
        restartCount: 0,
        labels: { "com.docker.compose.service": "app" },
      },
    ]);
  });

  test("finds the repo digest of the reference's repository", () => {
    const digests = [`other/repo@sha256:aaa`, `127.0.0.1:5000/e2e/app@${D}`];
    expect(digestFor(digests, "127.0.0.1:5000/e2e/app:latest")).toBe(D);
    expect(digestFor(digests, "127.0.0.1:5000/e2e/app")).toBe(D);
    expect(digestFor(digests, "local/built:1")).toBeNull();
  });

  const container = (over: Partial<ContainerInfo>): ContainerInfo => ({
    startedAt: null,
    restartCount: 0,
    labels: {},
    id: "x",
    service: "app",
    image: "i",
    imageId: "id",
    status: "running",
    running: true,
    exitCode: 0,
    health: null,
    ...over,
  });

  test.each([
    ["no containers yet", [], "waiting"],
    ["running without a healthcheck", [container({})], "healthy"],
    ["healthy", [container({ health: "healthy" })], "healthy"],
    ["still starting", [container({ health: "starting" })], "waiting"],
    ["unhealthy", [container({ health: "unhealthy" })], "unhealthy"],
    ["exited with an error", [container({ running: false, status: "exited", exitCode: 1 })], "unhealthy"],
    ["a one-shot job that exited 0", [container({ running: false, status: "exited", exitCode: 0 })], "healthy"],
    ["restarting", [container({ status: "restarting" })], "waiting"],
  ])("judges %s as %s", (_name, containers, verdict) => {
    expect(judgeHealth(containers as ContainerInfo[]).verdict).toBe(verdict as "healthy");
  });
});
