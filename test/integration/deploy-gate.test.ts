import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadApp } from "../../src/lib/app/app.ts";
import { readDeploys, readNodeState } from "../../src/lib/app/state.ts";
import { resumeFollowing } from "../../src/lib/node/manual-rollback.ts";
import { runPass } from "../../src/lib/node/pass.ts";
import { FAKE_DOCKER_DIR, Fixture } from "../helpers/fixture.ts";
import { type Loopback, serveLoopback } from "../helpers/loopback.ts";

let fx: Fixture;
let health: Loopback;
let hooks: Loopback;
const savedEnv = { ...process.env };

beforeEach(async () => {
  // The "app": unhealthy exactly while the checked-out commit has app.txt saying "broken".
  health = serveLoopback(() => {
    const broken =
      existsSync(join(fx.node, "app.txt")) && readFileSync(join(fx.node, "app.txt"), "utf8").includes("broken");
    return new Response(broken ? "down" : "ok", { status: broken ? 503 : 200 });
  });
  hooks = serveLoopback(() => new Response("thanks"));
  fx = await Fixture.create();
  process.env.FAKE_DOCKER_LOG = fx.env.FAKE_DOCKER_LOG;
  process.env.PATH = `${FAKE_DOCKER_DIR}:${savedEnv.PATH}`;
  process.env.PROTOCOL_WEBHOOK_SECRET = "s3cret";
});

afterEach(async () => {
  process.env = { ...savedEnv };
  await fx[Symbol.asyncDispose]();
  await health[Symbol.asyncDispose]();
  await hooks[Symbol.asyncDispose]();
});

const sync = () => runPass(loadApp(fx.node), { command: "test" });
const ups = () => fx.dockerCalls().filter((argv) => argv.includes("up"));

function protocolJson(): string {
  return JSON.stringify({
    name: "shop",
    docker: { project: "shop" },
    deploy: { health: { timeout: 5, http: { url: `${health.url}/health`, retries: 1 } } },
    notify: { webhook: `${hooks.url}/hook` },
  });
}

/**
 * What the fake docker reports running (ps + inspect): the app service on `image` at `digest`. A
 * deploy records it from there, as it records a real engine's answer: no test writes digests into
 * the state itself.
 */
function running(image: string, digest: string): void {
  process.env.FAKE_DOCKER_CONTAINERS = JSON.stringify([
    {
      Id: "c1",
      Image: "sha256:img1",
      Config: { Image: image, Labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": "app" } },
      State: { Status: "running", Running: true, ExitCode: 0 },
    },
  ]);
  process.env.FAKE_DOCKER_IMAGES = JSON.stringify([
    { Id: "sha256:img1", RepoDigests: [`${image.replace(/:[^:/]+$/, "")}@${digest}`] },
  ]);
}

async function deployGood(): Promise<string> {
  const good = await fx.push({ "docker-compose.yml": "services: {}\n", "protocol.json": protocolJson() }, "good");
  expect((await sync()).result).toBe("deployed");
  return good;
}

describe("health-gated deploys (fake docker, loopback health endpoint)", () => {
  test("with deploy.health, compose v2 waits for the healthchecks with a timeout", async () => {
    await deployGood();
    expect(ups().at(-1)).toEqual([
      "compose",
      "--project-name",
      "shop",
      "--file",
      "docker-compose.yml",
      "up",
      "-d",
      "--remove-orphans",
      "--wait",
      "--wait-timeout",
      "5",
    ]);
  });

  test("a failing probe rolls back to the last good commit, quarantines the bad one, and never retries it", async () => {
    const good = await deployGood();
    const bad = await fx.push({ "app.txt": "broken\n" }, "bad");
    const outcome = await sync();
    expect(outcome.result).toBe("rolled-back");
    expect(outcome.error).toContain("503");
    expect(await fx.head()).toBe(good);
    const record = readDeploys(loadApp(fx.node).paths.deploys).at(-1);
    expect(record).toMatchObject({ from: good, to: bad, result: "rolled-back", rolledBackTo: good });
    expect(readNodeState(loadApp(fx.node).paths.status)).toMatchObject({
      deployedCommit: good,
      quarantine: { commit: bad },
    });

    const upsBefore = ups().length;
    for (let i = 0; i < 3; i++) expect((await sync()).result).toBe("quarantined");
    expect(ups().length).toBe(upsBefore);
    expect(await fx.head()).toBe(good);

    const fixed = await fx.push({ "app.txt": "fixed\n" }, "fixed");
    expect((await sync()).result).toBe("deployed");
    expect(await fx.head()).toBe(fixed);
  });

  test("the rollback is gated by the good commit's probes, not by a probe the failed commit brought", async () => {
    const good = await deployGood();
    process.env.FAKE_DOCKER_EXEC_EXIT = JSON.stringify({ "check-new": 1 });
    const withProbe = JSON.parse(protocolJson());
    withProbe.deploy.health.command = { service: "app", run: ["check-new"], retries: 0 };
    const bad = await fx.push({ "protocol.json": JSON.stringify(withProbe) }, "adds a failing probe");
    const outcome = await sync();
    expect(outcome.result).toBe("rolled-back");
    expect(await fx.head()).toBe(good);
    expect(readDeploys(loadApp(fx.node).paths.deploys).at(-1)).toMatchObject({
      to: bad,
      result: "rolled-back",
      rolledBackTo: good,
    });
  });

  test("the webhook gets succeeded, rolled-back once (not per poll), then recovered, signed with the secret", async () => {
    await deployGood();
    await fx.push({ "app.txt": "broken\n" }, "bad");
    await sync();
    await sync();
    await fx.push({ "app.txt": "fixed\n" }, "fixed");
    await sync();
    const events = hooks.requests.map((r) => JSON.parse(r.body).event);
    expect(events).toEqual(["succeeded", "rolled-back", "recovered"]);
    const first = hooks.requests[0]!;
    expect(first.headers.get("x-protocol-signature")).toBe(
      `sha256=${createHmac("sha256", "s3cret").update(first.body).digest("hex")}`,
    );
    expect(JSON.parse(first.body)).toMatchObject({ app: "shop", event: "succeeded" });
  });

  test("a person's start lifts the quarantine and the commit is tried once more", async () => {
    await deployGood();
    const bad = await fx.push({ "app.txt": "broken\n" }, "bad");
    expect((await sync()).result).toBe("rolled-back");
    expect((await sync()).result).toBe("quarantined");
    expect(resumeFollowing(loadApp(fx.node))).toBe(true);
    const retried = await sync();
    expect(retried.result).toBe("rolled-back");
    expect(readDeploys(loadApp(fx.node).paths.deploys).filter((d) => d.to === bad)).toHaveLength(2);
  });

  test("a failed deploy with nothing good to go back to is recorded as failed and quarantined", async () => {
    const bad = await fx.push(
      { "docker-compose.yml": "services: {}\n", "protocol.json": protocolJson(), "app.txt": "broken\n" },
      "bad first",
    );
    const outcome = await sync();
    expect(outcome.result).toBe("error");
    expect(readNodeState(loadApp(fx.node).paths.status).quarantine?.commit).toBe(bad);
    expect((await sync()).result).toBe("quarantined");
  });
});

describe("image updates (fake docker, loopback registry)", () => {
  test("a new digest behind a floating tag triggers one pull and up; the same digest again does nothing", async () => {
    let digest = `sha256:${"a".repeat(64)}`;
    await using registry = serveLoopback((request, url) =>
      url.pathname === "/v2/shop/app/manifests/latest" && request.method === "HEAD"
        ? new Response(null, { headers: { "Docker-Content-Digest": digest } })
        : new Response("not found", { status: 404 }),
    );
    const image = `${registry.url.replace("http://", "")}/shop/app:latest`;
    running(image, digest);
    await deployGood();
    const app = loadApp(fx.node);
    expect(readNodeState(app.paths.status).images).toEqual([{ service: "app", image, digest }]);
    expect((await sync()).result).toBe("up-to-date");
    const before = ups().length;

    digest = `sha256:${"b".repeat(64)}`;
    running(image, digest); // what the pull and up bring
    const outcome = await sync();
    expect(outcome.result).toBe("deployed");
    expect(ups().length).toBe(before + 1);
    expect(readDeploys(app.paths.deploys).at(-1)).toMatchObject({ reason: "image" });
    // The digest just deployed is not "a new image available" (status said so until the next poll).
    expect(readNodeState(app.paths.status).registry.updateAvailable).toBeNull();
    const heads = registry.requests.filter((r) => r.method === "HEAD");
    expect(heads.at(-1)!.headers.get("accept")).toContain("application/vnd.oci.image.index.v1+json");
  });

  test("a failed image update quarantines those digests, not the commit: the next digest still deploys", async () => {
    let digest = `sha256:${"a".repeat(64)}`;
    await using registry = serveLoopback(() => new Response(null, { headers: { "Docker-Content-Digest": digest } }));
    const image = `${registry.url.replace("http://", "")}/shop/app:latest`;
    running(image, digest);
    const good = await deployGood();
    const app = loadApp(fx.node);
    expect((await sync()).result).toBe("up-to-date");

    // Digest b is unhealthy (the health endpoint reads app.txt; an untracked one leaves git alone).
    writeFileSync(join(fx.node, "app.txt"), "broken\n");
    digest = `sha256:${"b".repeat(64)}`;
    running(image, digest);
    expect((await sync()).result).not.toBe("deployed");
    expect(readNodeState(app.paths.status).quarantine).toMatchObject({ commit: good, digests: { [image]: digest } });
    rmSync(join(fx.node, "app.txt"));
    const upsBefore = ups().length;
    expect((await sync()).result).toBe("up-to-date");
    expect(ups().length).toBe(upsBefore);

    // Digest c is another image: the commit was never quarantined, so it deploys.
    digest = `sha256:${"c".repeat(64)}`;
    running(image, digest);
    expect((await sync()).result).toBe("deployed");
    expect(readDeploys(app.paths.deploys).at(-1)).toMatchObject({ to: good, reason: "image", result: "deployed" });
  });

  test("docker.updates=notify reports the new digest in status and deploys nothing", async () => {
    let digest = `sha256:${"a".repeat(64)}`;
    await using registry = serveLoopback(() => new Response(null, { headers: { "Docker-Content-Digest": digest } }));
    const image = `${registry.url.replace("http://", "")}/shop/app:prod`;
    const json = JSON.parse(protocolJson());
    running(image, digest);
    await fx.push({
      "docker-compose.yml": "services: {}\n",
      "protocol.json": JSON.stringify({ ...json, docker: { ...json.docker, updates: "notify" } }),
    });
    expect((await sync()).result).toBe("deployed");
    const app = loadApp(fx.node);
    digest = `sha256:${"c".repeat(64)}`;
    const before = ups().length;
    expect((await sync()).result).toBe("up-to-date");
    expect(ups().length).toBe(before);
    expect(readNodeState(app.paths.status).registry.updateAvailable).toContain(digest);
  });

  test("a registry that rate-limits is asked again only after Retry-After, and the node stays up to date", async () => {
    await using registry = serveLoopback(
      () => new Response("slow down", { status: 429, headers: { "Retry-After": "120" } }),
    );
    const image = `${registry.url.replace("http://", "")}/shop/app:latest`;
    running(image, `sha256:${"a".repeat(64)}`);
    await deployGood();
    const app = loadApp(fx.node);
    expect((await sync()).result).toBe("up-to-date");
    expect((await sync()).result).toBe("up-to-date");
    expect(registry.requests).toHaveLength(1);
    const state = readNodeState(app.paths.status).registry;
    expect(state.error).toContain("rate-limiting");
    expect(state.nextCheckAt! - Date.now()).toBeGreaterThan(100_000);
  });
});

describe("what a deploy records (fake docker answering ps and inspect)", () => {
  test("each service's running image digest goes into the history and status", async () => {
    const digest = `sha256:${"d".repeat(64)}`;
    process.env.FAKE_DOCKER_CONTAINERS = JSON.stringify([
      {
        Id: "c1",
        Image: "sha256:img1",
        Config: {
          Image: "registry.example.com/shop/app:latest",
          Labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": "app" },
        },
        State: { Status: "running", Running: true, ExitCode: 0, Health: { Status: "healthy" } },
      },
    ]);
    process.env.FAKE_DOCKER_IMAGES = JSON.stringify([
      { Id: "sha256:img1", RepoDigests: [`registry.example.com/shop/app@${digest}`] },
    ]);
    const to = await fx.push({
      "docker-compose.yml": "services: {}\n",
      "protocol.json": JSON.stringify({ name: "shop" }),
    });
    expect((await sync()).result).toBe("deployed");
    const expected = [{ service: "app", image: "registry.example.com/shop/app:latest", digest }];
    expect(readDeploys(loadApp(fx.node).paths.deploys).at(-1)).toMatchObject({ to, images: expected });
    expect(readNodeState(loadApp(fx.node).paths.status).images).toEqual(expected);
    const status = await fx.cli(["status", "--dir", fx.node, "--json"], {
      fakeDocker: true,
      env: { FAKE_DOCKER_CONTAINERS: process.env.FAKE_DOCKER_CONTAINERS },
    });
    expect(JSON.parse(status.stdout).containers).toEqual([
      { service: "app", status: "running", health: "healthy", image: "registry.example.com/shop/app:latest" },
    ]);
  });
});
