/**
 * Figure 6, fleet: 50 protocol nodes (`--interval 2`) and, beside them, 50 floor nodes (the bash
 * loop, `sleep 2`) follow one remote, each fleet through its own counting proxy. Over a window
 * (BENCH_FLEET_SECONDS, default 60; the issue's full run is 300): requests per second seen by the
 * remote, how evenly they are spread, CPU per node; then the time until all nodes converge after a push.
 *
 * Figure 6b, fleet rollout (BENCH_FLEET_MODE=rollout; `npm run bench -- rollout`): 30 nodes
 * (BENCH_ROLLOUT_NODES), each its own PROTOCOL_NODE_ID and state dir, in waves [10, 50, 100] 10 s
 * apart with one canary, reporting to a status remote. For a good commit: push → each wave complete
 * and the requests per second at the app and the status remote; for a bad one (its health probe
 * fails on every node): which nodes deployed it. Only the canary wave should have.
 */
import { wavePlace } from "../src/lib/fleet/waves.ts";
import {
  BIN,
  cpuSeconds,
  envNumber,
  type FigureResult,
  fakeDocker,
  figure,
  fmt,
  isGone,
  list,
  type Row,
  ratio,
  run,
  stats,
  type Workspace,
  waitFor,
} from "./lib.ts";
import {
  type Connection,
  cachedRepo,
  cloneNode,
  git,
  pushCommit,
  readHead,
  startDaemon,
  startFloorLoop,
  startProtocol,
  startProxy,
} from "./remote.ts";

const MODES = ["polls", "rollout"] as const;
const MODE = (process.env.BENCH_FLEET_MODE || "polls") as (typeof MODES)[number];
if (!MODES.includes(MODE)) throw new Error(`BENCH_FLEET_MODE=${MODE}: choose ${MODES.join(" or ")}`);
const NODES = envNumber("BENCH_FLEET_NODES", 50);
const SECONDS = envNumber("BENCH_FLEET_SECONDS", 60);
const WARMUP = envNumber("BENCH_FLEET_WARMUP", 5);
const PUSHES = envNumber("BENCH_FLEET_PUSHES", 3);
const INTERVAL = 2;
const FLEETS = ["protocol", "floor"] as const;
type Fleet = (typeof FLEETS)[number];

interface Spread {
  perSecond: number[];
  maxPer100ms: number;
  /** variance / mean of the per-100 ms counts: 1 for independent (Poisson) arrivals, far above 1 for bursts. */
  dispersion: number;
}

/** Connections per 100 ms over `seconds` whole seconds from `from` (performance.now()). */
function bins100ms(connections: Connection[], from: number, seconds: number): number[] {
  const bins = new Array(seconds * 10).fill(0);
  for (const c of connections) {
    const bin = Math.floor((c.at - from) / 100);
    if (bin >= 0 && bin < bins.length) bins[bin]++;
  }
  return bins;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const perSecond = (bins: number[]) =>
  Array.from({ length: Math.floor(bins.length / 10) }, (_, s) => sum(bins.slice(s * 10, s * 10 + 10)));

function dispersion(bins: number[]): number {
  const mean = sum(bins) / bins.length;
  const variance = bins.reduce((a, b) => a + (b - mean) ** 2, 0) / bins.length;
  return mean > 0 ? variance / mean : NaN;
}

function spread(connections: Connection[], from: number, seconds: number): Spread {
  const bins = bins100ms(connections, from, seconds);
  return { perSecond: perSecond(bins), maxPer100ms: Math.max(...bins), dispersion: dispersion(bins) };
}

async function pollsFigure(ws: Workspace): Promise<FigureResult> {
  const source = await cachedRepo(ws, 100, 100);
  await git(ws, ws.root, "clone", "--quiet", "--bare", source, ws.path("srv", "app.git"));
  const daemon = await startDaemon(ws, ws.path("srv"));
  const seed = ws.path("seed");
  await cloneNode(ws, source, seed, daemon.url("app.git"));
  const proxies = { protocol: await startProxy(ws, daemon.port), floor: await startProxy(ws, daemon.port) };
  const dirs = { protocol: [] as string[], floor: [] as string[] };
  for (const fleet of FLEETS) {
    for (let i = 0; i < NODES; i++) {
      const dir = ws.path(fleet, `node-${i}`);
      await cloneNode(ws, source, dir, `git://127.0.0.1:${proxies[fleet].port}/app.git`);
      dirs[fleet].push(dir);
    }
  }

  // Both fleets come up at about the same moment, as after a reboot: the floor loops at once,
  // protocol nodes 10 at a time (each `protocol start` syncs once before it returns).
  const pids = { protocol: [] as number[], floor: dirs.floor.map((dir) => startFloorLoop(ws, dir, INTERVAL)) };
  for (let i = 0; i < NODES; i += 10)
    pids.protocol.push(
      ...(await Promise.all(dirs.protocol.slice(i, i + 10).map((dir) => startProtocol(ws, dir, INTERVAL)))),
    );
  await Bun.sleep(WARMUP * 1000);

  const from = performance.now();
  const cpu0 = { protocol: pids.protocol.map(cpuSeconds), floor: pids.floor.map(cpuSeconds) };
  const n0 = { protocol: proxies.protocol.connections.length, floor: proxies.floor.connections.length };
  await Bun.sleep(SECONDS * 1000);
  const cpu1 = { protocol: pids.protocol.map(cpuSeconds), floor: pids.floor.map(cpuSeconds) };
  const alive = {
    protocol: pids.protocol.filter((p) => !isGone(p)).length,
    floor: pids.floor.filter((p) => !isGone(p)).length,
  };
  const window = {
    protocol: proxies.protocol.connections.slice(n0.protocol),
    floor: proxies.floor.connections.slice(n0.floor),
  };

  const converge = { protocol: [] as number[], floor: [] as number[] };
  const perNode = { protocol: [] as number[], floor: [] as number[] };
  for (let p = 0; p < PUSHES; p++) {
    await Bun.sleep(Math.random() * INTERVAL * 1000);
    const sha = await pushCommit(ws, seed);
    const pushed = performance.now();
    const done = { protocol: new Map<number, number>(), floor: new Map<number, number>() };
    await waitFor(
      () => {
        for (const fleet of FLEETS) {
          dirs[fleet].forEach((dir, i) => {
            if (!done[fleet].has(i) && readHead(dir) === sha) done[fleet].set(i, performance.now() - pushed);
          });
        }
        return done.protocol.size === NODES && done.floor.size === NODES;
      },
      60_000,
      10,
    );
    for (const fleet of FLEETS) {
      converge[fleet].push(done[fleet].size === NODES ? Math.max(...done[fleet].values()) : NaN);
      perNode[fleet].push(...done[fleet].values());
    }
  }

  const rows: Row[] = [];
  const raw: string[] = [];
  const m = Object.fromEntries(
    FLEETS.map((fleet) => {
      const cpu = cpu1[fleet].reduce((a, b, i) => a + b - cpu0[fleet][i]!, 0);
      return [
        fleet,
        {
          s: spread(window[fleet], from, SECONDS),
          rps: window[fleet].length / SECONDS,
          cpuPct: (cpu / NODES / SECONDS) * 100,
          cpuPerPoll: (cpu * 1000) / window[fleet].length,
          conv: stats(converge[fleet]),
          node: stats(perNode[fleet]),
        },
      ];
    }),
  ) as Record<
    Fleet,
    {
      s: Spread;
      rps: number;
      cpuPct: number;
      cpuPerPoll: number;
      conv: ReturnType<typeof stats>;
      node: ReturnType<typeof stats>;
    }
  >;
  const row = (metric: string, get: (x: (typeof m)[Fleet]) => number, digits: number, withRatio = true) =>
    rows.push({
      metric,
      protocol: fmt(get(m.protocol), digits),
      floor: fmt(get(m.floor), digits),
      ratio: withRatio ? ratio(get(m.protocol), get(m.floor)) : null,
    });
  row(`requests/s at the remote (${NODES} nodes; ideal ${fmt(NODES / INTERVAL, 1)})`, (x) => x.rps, 1);
  row("busiest second (requests)", (x) => Math.max(...x.s.perSecond), 0);
  row("busiest 100 ms (requests)", (x) => x.s.maxPer100ms, 0);
  row("dispersion of per-100 ms counts (1 = random, ≫1 = bursts)", (x) => x.s.dispersion, 2, false);
  row("CPU per node (% of one core)", (x) => x.cpuPct, 2);
  row("CPU per poll (ms)", (x) => x.cpuPerPoll, 1);
  row(`push → all ${NODES} converged, median (ms)`, (x) => x.conv.median, 0);
  row(`push → each node converged, median / p95 (ms)`, (x) => x.node.median, 0);
  rows.at(-1)!.protocol += ` / ${fmt(m.protocol.node.p95, 0)}`;
  rows.at(-1)!.floor += ` / ${fmt(m.floor.node.p95, 0)}`;
  for (const fleet of FLEETS) {
    raw.push(
      `### ${fleet}`,
      "",
      `loops alive at the end of the window: ${alive[fleet]}/${NODES}; ${window[fleet].length} connections in ${SECONDS} s.`,
      "",
      `requests per second: ${list(m[fleet].s.perSecond)}`,
      "",
      `push → all converged (ms): ${list(converge[fleet])}`,
      "",
    );
  }
  return {
    id: "fleet",
    title: "6. Fleet",
    setup: [
      `${NODES} protocol nodes at \`--interval ${INTERVAL}\` and ${NODES} floor nodes (bash loop, \`sleep ${INTERVAL}\`) on one remote (git daemon), each fleet through its own counting proxy; both fleets started together, then ${WARMUP} s of warm-up.`,
      `Window: ${SECONDS} s (BENCH_FLEET_SECONDS; the issue's full figure is 300). CPU = utime+stime+cutime+cstime of every loop over the window. Then ${PUSHES} pushes (BENCH_FLEET_PUSHES), timed until every node of each fleet has the commit.`,
      "Both fleets share the machine's 2 cores with each other and with git daemon during the whole run.",
    ],
    rows,
    raw: raw.join("\n"),
  };
}

// ---------------------------------------------------------------- 6b: rollout in waves

const ROLLOUT_NODES = envNumber("BENCH_ROLLOUT_NODES", 30);
const ROLLOUT_PUSHES = envNumber("BENCH_ROLLOUT_PUSHES", 3);
const ROLLOUT_IDLE = envNumber("BENCH_ROLLOUT_IDLE", 10);
const WAVE_SECONDS = envNumber("BENCH_ROLLOUT_WAVE_SECONDS", 10);
const WAVES = [10, 50, 100];
const CANARY = "node-0";
/** In the bad commit's protocol.json: a probe the fake docker fails on every node (FAKE_DOCKER_EXEC_EXIT). */
const BAD_HEALTH = { command: { service: "app", run: ["check-bad"], retries: 0 }, timeout: 5 };

interface RolloutNode {
  id: string;
  dir: string;
  wave: number;
  env: Record<string, string>;
}

interface FleetRecord {
  node: string;
  commit: string;
  result: string;
  at: string;
}

/** `protocol fleet --json`, read from the daemon itself: the bench's reads are not counted at the status proxy. */
async function fleetRecords(ws: Workspace, url: string): Promise<Map<string, FleetRecord>> {
  const ran = await run([BIN, "fleet", "--remote", url, "--env", "default", "--json"], {
    cwd: ws.root,
    env: ws.env,
    allowFail: true,
  });
  if (ran.code !== 0) return new Map();
  const nodes: FleetRecord[] = JSON.parse(ran.stdout).envs[0]?.nodes ?? [];
  return new Map(nodes.map((r) => [r.node, r]));
}

/** Requests at the app and the status remote, per 100 ms, over one or more windows of whole seconds. */
interface Traffic {
  app: number[];
  status: number[];
}

async function rolloutFigure(ws: Workspace): Promise<FigureResult> {
  const srv = ws.path("srv");
  await git(ws, ws.root, "clone", "--quiet", "--bare", await cachedRepo(ws, 100, 100), `${srv}/app.git`);
  await git(ws, ws.root, "init", "--quiet", "--bare", `${srv}/status.git`);
  const daemon = await startDaemon(ws, srv);
  const appProxy = await startProxy(ws, daemon.port);
  const statusProxy = await startProxy(ws, daemon.port);
  const rollout = {
    waves: WAVES,
    waveSeconds: WAVE_SECONDS,
    canaries: [CANARY],
    statusRemote: `git://127.0.0.1:${statusProxy.port}/status.git`,
  };
  const protocolJson = (health?: typeof BAD_HEALTH) =>
    `${JSON.stringify({ git: { interval: INTERVAL }, rollout, ...(health ? { deploy: { health } } : {}) }, null, 2)}\n`;
  const seed = ws.path("seed");
  await cloneNode(ws, `${srv}/app.git`, seed, daemon.url("app.git"));
  await pushCommit(ws, seed, {
    "protocol.json": protocolJson(),
    "docker-compose.yml": "services:\n  app:\n    image: busybox\n",
  });

  const docker = fakeDocker(ws, "rollout");
  const nodes: RolloutNode[] = [];
  for (let i = 0; i < ROLLOUT_NODES; i++) {
    const id = `node-${i}`;
    const dir = ws.path("nodes", id);
    await cloneNode(ws, `${srv}/app.git`, dir, `git://127.0.0.1:${appProxy.port}/app.git`);
    const env = {
      ...docker.env,
      PROTOCOL_NODE_ID: id,
      PROTOCOL_HOME: ws.path("node-state", id),
      FAKE_DOCKER_EXEC_EXIT: JSON.stringify({ "check-bad": 1 }),
    };
    nodes.push({ id, dir, wave: wavePlace(id, rollout).wave, env });
  }
  const waves = WAVES.map((_, k) => nodes.filter((n) => n.wave === k + 1));
  // 10 at a time, as in figure 6; each deploys the commit it was cloned at (a first commit has no rollout).
  for (let i = 0; i < nodes.length; i += 10)
    await Promise.all(nodes.slice(i, i + 10).map((n) => startProtocol(ws, n.dir, INTERVAL, n.env)));
  await Bun.sleep(WARMUP * 1000);

  const count = (into: Traffic, from: number, seconds: number) => {
    into.app.push(...bins100ms(appProxy.connections, from, seconds));
    into.status.push(...bins100ms(statusProxy.connections, from, seconds));
  };
  const idle: Traffic = { app: [], status: [] };
  const idleFrom = performance.now();
  await Bun.sleep(ROLLOUT_IDLE * 1000);
  count(idle, idleFrom, ROLLOUT_IDLE);

  // Good commits: push → each node's working copy at the commit, then → every node's "deployed" record.
  const timeoutMs = (WAVES.length * WAVE_SECONDS + 30) * 1000;
  const waveDone = WAVES.map(() => [] as number[]);
  const reported: number[] = [];
  const busy: Traffic = { app: [], status: [] };
  const statusPerNode: number[] = [];
  for (let p = 0; p < ROLLOUT_PUSHES; p++) {
    await Bun.sleep(Math.random() * INTERVAL * 1000);
    const status0 = statusProxy.connections.length;
    const sha = await pushCommit(ws, seed);
    const pushed = performance.now();
    const at = new Map<string, number>();
    await waitFor(
      () => {
        for (const n of nodes) if (!at.has(n.id) && readHead(n.dir) === sha) at.set(n.id, performance.now() - pushed);
        return at.size === nodes.length;
      },
      timeoutMs,
      10,
    );
    for (const [k, wave] of waves.entries())
      waveDone[k]!.push(wave.every((n) => at.has(n.id)) ? Math.max(...wave.map((n) => at.get(n.id)!)) : NaN);
    const all = await waitFor(
      async () =>
        [...(await fleetRecords(ws, daemon.url("status.git"))).values()].filter(
          (r) => r.commit === sha && r.result === "deployed",
        ).length === nodes.length,
      timeoutMs,
      250,
    );
    const ms = performance.now() - pushed;
    reported.push(all ? ms : NaN);
    count(busy, pushed, Math.floor(ms / 1000));
    statusPerNode.push((statusProxy.connections.length - status0) / nodes.length);
  }

  // A bad commit: every node runs its probe and fails it, so each node that deploys it rolls back.
  await Bun.sleep(Math.random() * INTERVAL * 1000);
  const badWall = Date.now();
  const bad = await pushCommit(ws, seed, { "protocol.json": protocolJson(BAD_HEALTH) });
  let records = new Map<string, FleetRecord>();
  const settled = await waitFor(
    async () => {
      records = await fleetRecords(ws, daemon.url("status.git"));
      return nodes.every((n) => records.get(n.id)?.commit === bad && records.get(n.id)?.result !== "waiting");
    },
    timeoutMs,
    500,
  );
  const outcome = new Map<string, { deployed: boolean; sync: string }>();
  for (let i = 0; i < nodes.length; i += 10)
    await Promise.all(
      nodes.slice(i, i + 10).map(async (n) => {
        const deploys: { to: string }[] = JSON.parse(
          (await run([BIN, "deploy:log", "--dir", n.dir, "--json"], { env: n.env })).stdout,
        );
        const status = JSON.parse((await run([BIN, "status", "--dir", n.dir, "--json"], { env: n.env })).stdout);
        outcome.set(n.id, { deployed: deploys.some((d) => d.to === bad), sync: status.lastSync?.result ?? "?" });
      }),
    );
  const deployedIn = waves.map((wave) => wave.filter((n) => outcome.get(n.id)!.deployed));
  const held = nodes.filter((n) => outcome.get(n.id)!.sync === "held");
  const reportAt = (pick: (r: FleetRecord) => boolean) =>
    [...records.values()].filter((r) => r.commit === bad && pick(r)).map((r) => (Date.parse(r.at) - badWall) / 1000);
  const firstFailure = Math.min(...reportAt((r) => r.result === "failed" || r.result === "rolled-back"));
  const lastHeld = Math.max(...reportAt((r) => r.result === "held"));

  const rows: Row[] = [];
  const row = (metric: string, value: number, floor: number, digits: number, withRatio = true) =>
    rows.push({
      metric,
      protocol: fmt(value, digits),
      floor: fmt(floor, digits),
      ratio: withRatio ? ratio(value, floor) : null,
    });
  for (const [k, wave] of waves.entries())
    row(
      `push → wave ${k + 1} complete (${wave.length} nodes), median of ${ROLLOUT_PUSHES} (s; floor: the schedule)`,
      stats(waveDone[k]!).median / 1000,
      k * WAVE_SECONDS,
      1,
      false,
    );
  row(
    `push → all ${nodes.length} nodes' "deployed" on the status remote, median (s)`,
    stats(reported).median / 1000,
    NaN,
    1,
    false,
  );
  for (const remote of ["app", "status"] as const) {
    const [during, quiet] = [busy[remote], idle[remote]];
    const ideal = remote === "app" ? `; ideal ${fmt(nodes.length / INTERVAL, 1)}` : "";
    row(
      `${remote} remote: requests/s during a rollout, mean (floor: idle${ideal})`,
      (sum(during) * 10) / during.length,
      (sum(quiet) * 10) / quiet.length,
      1,
    );
    row(
      `${remote} remote: busiest second of a rollout (requests; floor: idle)`,
      Math.max(...perSecond(during)),
      Math.max(...perSecond(quiet)),
      0,
    );
    row(
      `${remote} remote: dispersion of per-100 ms counts (1 = random, ≫1 = bursts; floor: idle)`,
      dispersion(during),
      dispersion(quiet),
      2,
      false,
    );
  }
  row("status remote: requests per node per rollout, median", stats(statusPerNode).median, NaN, 1, false);
  const canaryWave = waves[0]!.length;
  row(
    `bad commit: nodes that deployed it (floor: the canary wave, ${canaryWave} nodes)`,
    deployedIn.flat().length,
    canaryWave,
    0,
  );
  row("bad commit: nodes of the later waves that deployed it (goal 0)", deployedIn.slice(1).flat().length, 0, 0, false);
  row(
    `bad commit: nodes holding it (floor: the later waves, ${nodes.length - canaryWave})`,
    held.length,
    nodes.length - canaryWave,
    0,
  );
  row(
    "bad commit: push → first failure recorded on the status remote (s; the record's time)",
    firstFailure,
    NaN,
    1,
    false,
  );
  row(
    `bad commit: push → last "held" on the status remote (s; schedule ${(WAVES.length - 1) * WAVE_SECONDS})`,
    lastHeld,
    NaN,
    1,
    false,
  );

  const raw = [
    `waves: ${waves.map((wave, k) => `${k + 1}: ${wave.map((n) => n.id).join(" ")}`).join("; ")}.`,
    "",
    ...waves.map((_, k) => `push → wave ${k + 1} complete (ms), per push: ${list(waveDone[k]!)}`),
    "",
    `A wave's lag behind the schedule is up to one interval (${INTERVAL} s) until a node sees the commit, its place in the wave's spread (waves after the first: up to ${fmt(Math.min(30, WAVE_SECONDS / 4), 1)} s), up to one interval until the poll after it is due, and the deploy.`,
    "",
    `push → every node's "deployed" record (ms): ${list(reported)}; status remote requests per node, per push: ${list(statusPerNode, 2)}.`,
    "",
    `app remote requests per second, idle: ${list(perSecond(idle.app))}; during the rollouts, one push after the other: ${list(perSecond(busy.app))}`,
    "",
    `status remote requests per second, idle: ${list(perSecond(idle.status))}; during the rollouts: ${list(perSecond(busy.status))}`,
    "",
    `bad commit ${bad.slice(0, 8)}: ${settled ? "every node settled" : `**not every node settled within ${timeoutMs / 1000} s**`}; deployed it, by wave: ${deployedIn.map((d, k) => `${k + 1}: ${d.map((n) => n.id).join(" ") || "none"}`).join("; ")}. Last sync result per node: ${nodes.map((n) => `${n.id} ${outcome.get(n.id)!.sync}`).join(", ")}.`,
  ];
  return {
    id: "rollout",
    title: "6b. Fleet rollout",
    setup: [
      `${nodes.length} protocol nodes at \`--interval ${INTERVAL}\` (each its own PROTOCOL_NODE_ID and PROTOCOL_HOME, the fake docker), rollout waves [${WAVES.join(", ")}] ${WAVE_SECONDS} s apart (BENCH_ROLLOUT_WAVE_SECONDS), canary ${CANARY}: ${waves.map((w) => w.length).join(" / ")} nodes per wave. App remote and status remote behind one git daemon, each through its own counting proxy.`,
      `${WARMUP} s of warm-up, ${ROLLOUT_IDLE} s idle (BENCH_ROLLOUT_IDLE), then ${ROLLOUT_PUSHES} good commit(s) one after the other (BENCH_ROLLOUT_PUSHES): push → every node of the wave at the commit (working copy), and → every node's "deployed" record on the status remote; requests counted from the push to that last record.`,
      `Then one bad commit (its protocol.json adds a health probe that fails on every node): once every node's record names it, each node's \`deploy:log --json\` and \`status --json\`. Floor column: the schedule ((k−1) × waveSeconds), the same fleet idle, or the goal.`,
    ],
    rows,
    raw: raw.join("\n"),
  };
}

await figure(MODE === "rollout" ? "fleet-rollout" : "fleet", MODE === "rollout" ? rolloutFigure : pollsFigure);
