/**
 * Figure 8, config follow: an app with a config repo beside it (`<app>-config`, branch production,
 * its remote a bare repo behind git daemon), linked with `protocol config:link` and followed by the
 * config slave that `protocol start --interval 1` starts. Each round pushes one config commit and
 * times, from the push returning, until the recording fake docker logs the extra `compose … up`.
 * Floor: a bash loop on its own config clone (ls-remote → fetch + merge --ff-only, then
 * `docker compose up -d`, `sleep 1`) with the same fake docker.
 */
import { writeFileSync } from "node:fs";
import { BIN, envNumber, fakeDocker, figure, fmt, list, ratio, run, spawnGroup, stats, waitFor } from "./lib.ts";
import { cloneNode, git, startDaemon, startProtocol } from "./remote.ts";

const ROUNDS = envNumber("BENCH_CONFIG_ROUNDS", 15);
const INTERVAL = 1;
const TIMEOUT_MS = 30_000;

const FLOOR_LOOP = `#!/usr/bin/env bash
# The config floor: poll with ls-remote, on a change fetch, fast-forward and compose up. Nothing else.
cd "$1" || exit 1
while :; do
  remote=$(git ls-remote origin refs/heads/production)
  remote=\${remote%%[[:space:]]*}
  if [ -n "$remote" ] && [ "$remote" != "$(git rev-parse HEAD)" ]; then
    git fetch --quiet origin production && git merge --ff-only --quiet "$remote" && docker compose --project-name floor up -d
  fi
  sleep "$2"
done
`;

await figure("config", async (ws) => {
  const srv = ws.path("srv");
  const appSeed = ws.path("app-seed");
  await git(ws, ws.root, "init", "--quiet", appSeed);
  writeFileSync(`${appSeed}/docker-compose.yml`, "services: {}\n");
  await git(ws, appSeed, "add", "docker-compose.yml");
  await git(ws, appSeed, "commit", "--quiet", "-m", "compose");
  await git(ws, ws.root, "clone", "--quiet", "--bare", appSeed, `${srv}/app.git`);

  // The config remote: one branch, production, with the app's .env (the operator's laptop pushes to it).
  const configSeed = ws.path("config-seed");
  await git(ws, ws.root, "init", "--quiet", "--initial-branch=production", configSeed);
  writeFileSync(`${configSeed}/.env`, "SECRET=initial\n");
  await git(ws, configSeed, "add", ".env");
  await git(ws, configSeed, "commit", "--quiet", "-m", "production config");
  await git(ws, ws.root, "clone", "--quiet", "--bare", configSeed, `${srv}/config.git`);
  await git(ws, configSeed, "remote", "add", "origin", `${srv}/config.git`);

  const daemon = await startDaemon(ws, srv);
  const node = ws.path("app");
  await cloneNode(ws, `${srv}/app.git`, node, daemon.url("app.git"));
  const floorConfig = ws.path("floor-config");
  for (const dir of [`${node}-config`, floorConfig]) {
    await run(["git", "clone", "--quiet", "--branch", "production", `${srv}/config.git`, dir], { env: ws.env });
    await git(ws, dir, "remote", "set-url", "origin", daemon.url("config.git"));
  }

  const docker = fakeDocker(ws, "protocol");
  const floorDocker = fakeDocker(ws, "floor");
  await run([BIN, "config:link", "--dir", node], { env: docker.env });
  await startProtocol(ws, node, INTERVAL, docker.env);
  const floorScript = ws.path("config-floor-loop.sh");
  writeFileSync(floorScript, FLOOR_LOOP, { mode: 0o755 });
  spawnGroup(ws, ["bash", floorScript, floorConfig, String(INTERVAL)], { cwd: floorConfig, env: floorDocker.env });
  await Bun.sleep(2_000);
  const startUps = docker.ups();

  const times = { protocol: [] as number[], floor: [] as number[] };
  const missed = { protocol: 0, floor: 0 };
  const fakes = { protocol: docker, floor: floorDocker };
  for (let i = 1; i <= ROUNDS; i++) {
    // A random phase between the push and the loops' next poll.
    await Bun.sleep(Math.random() * 1000 * INTERVAL);
    const before = { protocol: docker.ups(), floor: floorDocker.ups() };
    writeFileSync(`${configSeed}/.env`, `SECRET=round-${i}-${Date.now()}\n`);
    await git(ws, configSeed, "commit", "--quiet", "-am", `config change ${i}`);
    await git(ws, configSeed, "push", "--quiet", "origin", "HEAD:production");
    const pushed = performance.now();
    const done: Partial<Record<"protocol" | "floor", number>> = {};
    await waitFor(
      () => {
        for (const name of ["protocol", "floor"] as const) {
          if (done[name] === undefined && fakes[name].ups() > before[name]) done[name] = performance.now() - pushed;
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
  }
  await Bun.sleep(3_000); // a few more polls of both protocol loops: nothing else may run compose
  const extraUps = docker.ups() - startUps - times.protocol.length;

  const p = stats(times.protocol);
  const f = stats(times.floor);
  return {
    id: "config",
    title: "8. Config follow",
    setup: [
      "An app (docker-compose.yml, recording fake docker from test/fixtures first on PATH) with its config repo beside it (`<app>-config`, branch production, one `.env`), both remotes bare repos behind git daemon on 127.0.0.1; `protocol config:link`, then `protocol start --interval 1` (app loop and config slave).",
      `${ROUNDS} config commits (BENCH_CONFIG_ROUNDS) pushed to the config remote, a random 0–1 s pause before each: time from \`git push\` returning to the fake docker's log holding a new \`compose … up\`.`,
      `Floor: a bash loop on its own config clone (ls-remote → fetch + merge --ff-only → \`docker compose up -d\`, \`sleep ${INTERVAL}\`), same fake docker, running at the same time.`,
    ],
    rows: [
      {
        metric: "config push → compose up, median (ms)",
        protocol: fmt(p.median, 0),
        floor: fmt(f.median, 0),
        ratio: ratio(p.median, f.median),
      },
      {
        metric: "config push → compose up, p95 (ms)",
        protocol: fmt(p.p95, 0),
        floor: fmt(f.p95, 0),
        ratio: ratio(p.p95, f.p95),
      },
      {
        metric: "config push → compose up, mean (ms)",
        protocol: fmt(p.mean, 0),
        floor: fmt(f.mean, 0),
        ratio: ratio(p.mean, f.mean),
      },
      {
        metric: `config pushes not followed within ${TIMEOUT_MS / 1000}s`,
        protocol: String(missed.protocol),
        floor: String(missed.floor),
        ratio: null,
      },
      {
        metric: "extra compose up calls (beyond one per push)",
        protocol: String(extraUps),
        floor: String(floorDocker.ups() - times.floor.length),
        ratio: null,
      },
    ],
    raw: [
      `protocol (ms, in push order): ${list(times.protocol)}`,
      "",
      `floor (ms, in push order): ${list(times.floor)}`,
      "",
      `protocol min/max ${fmt(p.min, 0)}/${fmt(p.max, 0)} ms; floor min/max ${fmt(f.min, 0)}/${fmt(f.max, 0)} ms. protocol's config deploy runs \`compose pull\` before \`compose up\`; the floor runs \`up\` only.`,
    ].join("\n"),
  };
});
