/**
 * Figure 6, fleet: 50 protocol nodes (`--interval 2`) and, beside them, 50 floor nodes (the bash
 * loop, `sleep 2`) follow one remote, each fleet through its own counting proxy. Over a window
 * (BENCH_FLEET_SECONDS, default 60; the full run is 300): requests per second seen by the
 * remote, how evenly they are spread, CPU per node; then the time until all nodes converge after a push.
 */
import { cpuSeconds, envNumber, figure, fmt, isGone, list, type Row, ratio, stats, waitFor } from "./lib.ts";
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

function spread(connections: Connection[], from: number, seconds: number): Spread {
  const bins = new Array(seconds * 10).fill(0);
  for (const c of connections) {
    const bin = Math.floor((c.at - from) / 100);
    if (bin >= 0 && bin < bins.length) bins[bin]++;
  }
  const mean = bins.reduce((a, b) => a + b, 0) / bins.length;
  const variance = bins.reduce((a, b) => a + (b - mean) ** 2, 0) / bins.length;
  const perSecond = Array.from({ length: seconds }, (_, s) =>
    bins.slice(s * 10, s * 10 + 10).reduce((a, b) => a + b, 0),
  );
  return { perSecond, maxPer100ms: Math.max(...bins), dispersion: mean > 0 ? variance / mean : NaN };
}

await figure("fleet", async (ws) => {
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
});
