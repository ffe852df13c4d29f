/**
 * Figure 7, image follow: a node whose compose service runs `127.0.0.1:PORT/bench/app:latest` from
 * a loopback registry served here (HEAD of the manifest answers a digest we set). The recording
 * fake docker answers ps/inspect/image inspect from files, so each deploy records the digest the
 * registry gives now. (a) Time from the tag moving to the fake docker logging `compose … up`;
 * floor: a bash loop, `curl -sI` of the manifest every 1 s, `compose up` on a change. (b) Idle
 * poll cost with that image followed; floor: one `git ls-remote` + one `curl -sI`.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import {
  cpuTimes,
  envNumber,
  fakeDocker,
  figure,
  fmt,
  killGroup,
  list,
  ratio,
  run,
  spawnGroup,
  stats,
  type Workspace,
  waitFor,
} from "./lib.ts";
import { type Connection, cloneNode, git, startDaemon, startProtocol, startProxy } from "./remote.ts";

const ROUNDS = envNumber("BENCH_IMAGE_ROUNDS", 20);
const POLLS = envNumber("BENCH_IMAGE_POLLS", 100);
const FLOOR_RUNS = 30;
const INTERVAL = 1;
const TIMEOUT_MS = 30_000;
const MANIFEST = "/v2/bench/app/manifests/latest";
const ACCEPT = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json";

const FLOOR_LOOP = `#!/usr/bin/env bash
# The image floor: HEAD the manifest, on a new digest compose up. Nothing else.
last=""
while :; do
  digest=""
  while IFS= read -r line; do
    line=\${line%$'\\r'}
    case \${line,,} in docker-content-digest:*) digest=\${line#*: } ;; esac
  done < <(curl -sI -H "Accept: ${ACCEPT}" "$1")
  if [ -n "$digest" ] && [ "$digest" != "$last" ]; then
    [ -n "$last" ] && docker compose --project-name floor up -d
    last=$digest
  fi
  sleep "$2"
done
`;

const newDigest = () => `sha256:${randomBytes(32).toString("hex")}`;

/** A registry that knows one tag: HEAD of its manifest answers `digest()`; requests counted. */
function serveRegistry(ws: Workspace, digest: () => string): { port: number; requests: () => number } {
  let requests = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      requests++;
      if (new URL(request.url).pathname !== MANIFEST) return new Response(null, { status: 404 });
      const headers = {
        "Docker-Content-Digest": digest(),
        "Content-Type": "application/vnd.oci.image.index.v1+json",
        "Content-Length": "512",
      };
      return new Response(request.method === "HEAD" ? null : "{}", { headers });
    },
  });
  ws.defer(() => server.stop(true));
  return { port: server.port!, requests: () => requests };
}

const bytesOf = (connections: Connection[]) => connections.reduce((sum, c) => sum + c.up + c.down, 0);

await figure("image", async (ws) => {
  let digest = newDigest();
  const registry = serveRegistry(ws, () => digest);
  const floorRegistry = serveRegistry(ws, () => digest);
  const registryProxy = await startProxy(ws, registry.port); // bytes on the wire of protocol's registry checks
  const host = `127.0.0.1:${registryProxy.port}`;
  const image = `${host}/bench/app:latest`;

  const seed = ws.path("seed");
  await git(ws, ws.root, "init", "--quiet", seed);
  writeFileSync(`${seed}/docker-compose.yml`, `services:\n  app:\n    image: ${image}\n`);
  await git(ws, seed, "add", "docker-compose.yml");
  await git(ws, seed, "commit", "--quiet", "-m", "compose");
  await git(ws, ws.root, "clone", "--quiet", "--bare", seed, ws.path("srv", "app.git"));
  const daemon = await startDaemon(ws, ws.path("srv"));
  const gitProxy = await startProxy(ws, daemon.port); // one connection per poll: counts the polls
  const node = ws.path("node");
  await cloneNode(ws, ws.path("srv", "app.git"), node, `git://127.0.0.1:${gitProxy.port}/app.git`);

  const docker = fakeDocker(ws, "protocol");
  const floorDocker = fakeDocker(ws, "floor");
  const container = {
    Id: "c1",
    Image: "sha256:img1",
    Config: { Image: image, Labels: { "com.docker.compose.project": "node", "com.docker.compose.service": "app" } },
    State: { Status: "running", Running: true, ExitCode: 0 },
  };
  const answer = () =>
    docker.answer([container], [{ Id: "sha256:img1", RepoDigests: [`${host}/bench/app@${digest}`] }]);
  answer();

  // Floor (b) first, before any loop runs, so the proxies see only the floor's connections.
  const manifestUrl = (port: number) => `http://127.0.0.1:${port}${MANIFEST}`;
  const floorCpuMs: number[] = [];
  const floorBytes: number[] = [];
  for (let i = 0; i < FLOOR_RUNS; i++) {
    const lsRemote = await git(ws, node, "ls-remote", "origin", "refs/heads/main");
    const curl = await run(["curl", "-sI", "-H", `Accept: ${ACCEPT}`, manifestUrl(registryProxy.port)], {
      env: ws.env,
    });
    await Bun.sleep(50); // let the proxies count the closing bytes
    floorCpuMs.push(lsRemote.cpuMs + curl.cpuMs);
    floorBytes.push(bytesOf(gitProxy.connections.splice(0)) + bytesOf(registryProxy.connections.splice(0)));
  }

  const pid = await startProtocol(ws, node, INTERVAL, docker.env);
  const floorScript = ws.path("image-floor-loop.sh");
  writeFileSync(floorScript, FLOOR_LOOP, { mode: 0o755 });
  const floorPid = spawnGroup(ws, ["bash", floorScript, manifestUrl(floorRegistry.port), String(INTERVAL)], {
    cwd: node,
    env: floorDocker.env,
  });
  await Bun.sleep(2_000);

  // (a) The tag moves; the fake docker's next answers carry the new digest, as after a pull.
  const times = { protocol: [] as number[], floor: [] as number[] };
  const missed = { protocol: 0, floor: 0 };
  const fakes = { protocol: docker, floor: floorDocker };
  const inspects = () => docker.calls().filter((argv) => argv[0] === "image" && argv[1] === "inspect").length;
  for (let i = 0; i < ROUNDS; i++) {
    await Bun.sleep(Math.random() * 1000 * INTERVAL);
    const before = { protocol: docker.ups(), floor: floorDocker.ups(), inspects: inspects() };
    digest = newDigest();
    answer();
    const moved = performance.now();
    const done: Partial<Record<"protocol" | "floor", number>> = {};
    await waitFor(
      () => {
        for (const name of ["protocol", "floor"] as const) {
          if (done[name] === undefined && fakes[name].ups() > before[name]) done[name] = performance.now() - moved;
        }
        return done.protocol !== undefined && done.floor !== undefined;
      },
      TIMEOUT_MS,
      2,
    );
    for (const name of ["protocol", "floor"] as const) {
      if (done[name] === undefined) missed[name]++;
      else times[name].push(done[name]!);
    }
    // The deploy records the digest (image inspect) after `up`: moving the tag before that would
    // make the fake answer the next digest as already pulled, and the move would go unseen.
    await waitFor(() => inspects() > before.inspects, TIMEOUT_MS, 5);
  }
  await killGroup(floorPid);

  // (b) Idle polls: nothing moves; each poll is one git connection through the proxy.
  const polls = () => gitProxy.connections.length;
  const begin = polls() + 2; // skip the poll that deployed the last digest and the next (target resolved again)
  await waitFor(() => polls() >= begin, 30_000, 10);
  await Bun.sleep(400);
  const n0 = polls();
  const snap = () => ({
    cpu: cpuTimes(pid),
    requests: registry.requests(),
    registryBytes: bytesOf(registryProxy.connections),
    gitBytes: bytesOf(gitProxy.connections),
    ups: docker.ups(),
  });
  const s0 = snap();
  await waitFor(() => polls() >= n0 + POLLS, (POLLS * INTERVAL * 1.2 + 60) * 1000, 20);
  await Bun.sleep(400);
  const s1 = snap();
  const n = polls() - n0;
  const cpuMsPerPoll = ((s1.cpu.own + s1.cpu.children - s0.cpu.own - s0.cpu.children) * 1000) / n;
  const ownMsPerPoll = ((s1.cpu.own - s0.cpu.own) * 1000) / n;
  const requestsPerPoll = (s1.requests - s0.requests) / n;
  const bytesPerPoll = (s1.registryBytes - s0.registryBytes + s1.gitBytes - s0.gitBytes) / n;

  const fakeCall: number[] = [];
  for (let i = 0; i < 5; i++)
    fakeCall.push(
      (await run(["docker", "compose", "version"], { env: { ...floorDocker.env, FAKE_DOCKER_LOG: "" } })).ms,
    );
  const p = stats(times.protocol);
  const f = stats(times.floor);
  const fc = stats(floorCpuMs);
  const fb = stats(floorBytes);
  return {
    id: "image",
    title: "7. Image follow",
    setup: [
      `A node whose compose service runs \`${image.replace(/:\d+\//, ":PORT/")}\` from a loopback registry (Bun.serve, HEAD of the manifest answers a Docker-Content-Digest set by the bench); the recording fake docker (test/fixtures, behind a wrapper reading its ps/inspect answers from files) stands in for docker.`,
      `(a) ${ROUNDS} tag moves (BENCH_IMAGE_ROUNDS), a random 0–1 s pause before each: time from the registry answering the new digest to the fake docker's log holding a new \`compose … up\`. protocol: \`protocol start --interval ${INTERVAL}\`. Floor: a bash loop, \`curl -sI\` of the manifest, on a change \`docker compose up -d\`, \`sleep ${INTERVAL}\` (its own registry, same digest).`,
      `(b) ${POLLS} idle polls (BENCH_IMAGE_POLLS) with that image followed: CPU of the loop and its children (/proc) and registry requests and bytes (git + registry, counted by TCP proxies) per poll. Floor: one \`git ls-remote\` + one \`curl -sI\` of the manifest.`,
    ],
    rows: [
      {
        metric: "tag moved → compose up, median (ms)",
        protocol: fmt(p.median, 0),
        floor: fmt(f.median, 0),
        ratio: ratio(p.median, f.median),
      },
      {
        metric: "tag moved → compose up, p95 (ms)",
        protocol: fmt(p.p95, 0),
        floor: fmt(f.p95, 0),
        ratio: ratio(p.p95, f.p95),
      },
      {
        metric: `tag moves not followed within ${TIMEOUT_MS / 1000}s`,
        protocol: String(missed.protocol),
        floor: String(missed.floor),
        ratio: null,
      },
      {
        metric: "idle poll CPU, one followed image (ms/poll)",
        protocol: fmt(cpuMsPerPoll, 1),
        floor: fmt(fc.median, 1),
        ratio: ratio(cpuMsPerPoll, fc.median),
      },
      {
        metric: "idle poll registry requests (per poll)",
        protocol: fmt(requestsPerPoll, 2),
        floor: "1",
        ratio: ratio(requestsPerPoll, 1),
      },
      {
        metric: "idle poll bytes on the wire, git + registry (per poll)",
        protocol: fmt(bytesPerPoll, 0),
        floor: fmt(fb.median, 0),
        ratio: ratio(bytesPerPoll, fb.median),
      },
    ],
    raw: [
      `protocol (ms, in round order): ${list(times.protocol)}`,
      "",
      `floor (ms, in round order): ${list(times.floor)}`,
      "",
      `protocol min/max ${fmt(p.min, 0)}/${fmt(p.max, 0)} ms; floor min/max ${fmt(f.min, 0)}/${fmt(f.max, 0)} ms. One fake docker call (a bun script) takes ${list(fakeCall)} ms here; protocol's image deploy makes \`compose pull\`, \`compose up\`, then \`ps\`, \`inspect\`, \`image inspect\` to record the digest.`,
      "",
      `idle: ${n} polls; loop CPU ${fmt(cpuMsPerPoll, 2)} ms/poll, of which the Bun process itself ${fmt(ownMsPerPoll, 2)} and its git children ${fmt(cpuMsPerPoll - ownMsPerPoll, 2)}; registry requests ${s1.requests - s0.requests}; registry bytes ${s1.registryBytes - s0.registryBytes}, git bytes ${s1.gitBytes - s0.gitBytes}; compose up calls in the window ${s1.ups - s0.ups}.`,
      `floor \`git ls-remote\` + \`curl -sI\` × ${FLOOR_RUNS}: CPU ms ${list(floorCpuMs, 1)}; bytes ${list(floorBytes)}.`,
    ].join("\n"),
  };
});
