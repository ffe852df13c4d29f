/**
 * Figure 1, push to converged: a protocol node (`--interval 1`) and a floor node (the plain bash
 * loop, `sleep 1`) follow the same bare remote behind git daemon. Each round pushes one commit and
 * times, from the push returning, until each node's branch equals it.
 */
import { envNumber, figure, fmt, list, ratio, stats, waitFor } from "./lib.ts";
import {
  cachedRepo,
  cloneNode,
  git,
  pushCommit,
  readHead,
  startDaemon,
  startFloorLoop,
  startProtocol,
} from "./remote.ts";

const PUSHES = envNumber("BENCH_PUSHES", 30);
const INTERVAL = 1;
const TIMEOUT_MS = 30_000;

await figure("push", async (ws) => {
  const source = await cachedRepo(ws, 100, 100);
  await git(ws, ws.root, "clone", "--quiet", "--bare", source, ws.path("srv", "app.git"));
  const daemon = await startDaemon(ws, ws.path("srv"));
  const url = daemon.url("app.git");
  const seed = ws.path("seed");
  const nodes = { protocol: ws.path("node-protocol"), floor: ws.path("node-floor") };
  for (const dir of [seed, nodes.protocol, nodes.floor]) await cloneNode(ws, source, dir, url);

  await startProtocol(ws, nodes.protocol, INTERVAL);
  startFloorLoop(ws, nodes.floor, INTERVAL);
  await Bun.sleep(2_000);

  const times = { protocol: [] as number[], floor: [] as number[] };
  const missed = { protocol: 0, floor: 0 };
  for (let i = 0; i < PUSHES; i++) {
    // A random phase between the push and the loops' next poll.
    await Bun.sleep(Math.random() * 1000 * INTERVAL);
    const sha = await pushCommit(ws, seed);
    const pushed = performance.now();
    const done: Partial<Record<"protocol" | "floor", number>> = {};
    await waitFor(
      () => {
        for (const name of ["protocol", "floor"] as const) {
          if (done[name] === undefined && readHead(nodes[name]) === sha) done[name] = performance.now() - pushed;
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

  const p = stats(times.protocol);
  const f = stats(times.floor);
  return {
    id: "push",
    title: "1. Push to converged",
    setup: [
      `${PUSHES} pushes (BENCH_PUSHES) of one commit to a bare remote (100 files, 100 commits) served by git daemon on 127.0.0.1:${daemon.port}.`,
      `protocol: \`protocol start --interval ${INTERVAL}\` (background loop, ±20 % jitter). Floor: the bash loop (ls-remote → fetch + merge --ff-only, \`sleep ${INTERVAL}\`), running at the same time on its own clone.`,
      "Time from `git push` returning to the node's branch ref equal to the pushed commit (ref file polled every 2 ms). A random 0–1 s pause before each push sets the phase.",
    ],
    rows: [
      {
        metric: "push → converged, median (ms)",
        protocol: fmt(p.median, 0),
        floor: fmt(f.median, 0),
        ratio: ratio(p.median, f.median),
      },
      {
        metric: "push → converged, p95 (ms)",
        protocol: fmt(p.p95, 0),
        floor: fmt(f.p95, 0),
        ratio: ratio(p.p95, f.p95),
      },
      {
        metric: "push → converged, mean (ms)",
        protocol: fmt(p.mean, 0),
        floor: fmt(f.mean, 0),
        ratio: ratio(p.mean, f.mean),
      },
      {
        metric: `pushes not converged within ${TIMEOUT_MS / 1000}s`,
        protocol: String(missed.protocol),
        floor: String(missed.floor),
        ratio: null,
      },
    ],
    raw: [
      `protocol (ms, in push order): ${list(times.protocol)}`,
      "",
      `floor (ms, in push order): ${list(times.floor)}`,
      "",
      `protocol min/max ${fmt(p.min, 0)}/${fmt(p.max, 0)} ms; floor min/max ${fmt(f.min, 0)}/${fmt(f.max, 0)} ms`,
    ].join("\n"),
  };
});
