/**
 * Figure 4, memory: RSS of the background loop after 10 polls and after N polls (default 200,
 * BENCH_MEMORY_POLLS; the 2,000 polls at --interval 1 take 33 minutes), with a push every
 * 50 polls so the deploy path runs too. Floors beside it: the bash loop, and a compiled Bun program
 * that only runs `git ls-remote` every second (what the runtime itself costs). Also the peak RSS of
 * `protocol status` against `git status`.
 */
import { readFileSync } from "node:fs";
import { BIN, envNumber, figure, fmt, ratio, rssKb, stats, timeRss, waitFor } from "./lib.ts";
import {
  cachedRepo,
  cloneNode,
  git,
  pushCommit,
  startBunFloorLoop,
  startDaemon,
  startFloorLoop,
  startProtocol,
  startProxy,
} from "./remote.ts";

const POLLS = envNumber("BENCH_MEMORY_POLLS", 200);
const PUSH_EVERY = envNumber("BENCH_MEMORY_PUSH_EVERY", 50);
const STATUS_RUNS = 15;
const INTERVAL = 1;
const EARLY = 10;

const LOOPS = ["protocol", "floor", "bun"] as const;
type Loop = (typeof LOOPS)[number];
const hwmKb = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
const mb = (kb: number) => fmt(kb / 1024, 1);

await figure("memory", async (ws) => {
  const source = await cachedRepo(ws, 100, 100);
  await git(ws, ws.root, "clone", "--quiet", "--bare", source, ws.path("srv", "app.git"));
  const daemon = await startDaemon(ws, ws.path("srv"));
  const seed = ws.path("seed");
  await cloneNode(ws, source, seed, daemon.url("app.git"));
  const nodes = { protocol: ws.path("node-protocol"), floor: ws.path("node-floor"), bun: ws.path("node-bun") };
  const proxies = {
    protocol: await startProxy(ws, daemon.port),
    floor: await startProxy(ws, daemon.port),
    bun: await startProxy(ws, daemon.port),
  };
  for (const name of LOOPS) await cloneNode(ws, source, nodes[name], `git://127.0.0.1:${proxies[name].port}/app.git`);

  const pids = {
    protocol: await startProtocol(ws, nodes.protocol, INTERVAL),
    floor: startFloorLoop(ws, nodes.floor, INTERVAL),
    bun: await startBunFloorLoop(ws, nodes.bun, INTERVAL),
  };
  const base = { protocol: proxies.protocol.connections.length, floor: 0, bun: 0 };
  const polls = (name: Loop) => proxies[name].connections.length - base[name];
  const samples = {
    protocol: new Map<number, number>(),
    floor: new Map<number, number>(),
    bun: new Map<number, number>(),
  };
  let pushes = 0;
  const deadline = Date.now() + (POLLS * INTERVAL * 1.3 + 60) * 1000;
  while (Date.now() < deadline && LOOPS.some((name) => polls(name) < POLLS)) {
    for (const name of LOOPS) {
      const n = polls(name);
      if (n > 0 && n <= POLLS && !samples[name].has(n)) samples[name].set(n, rssKb(pids[name]));
    }
    if (polls("protocol") >= (pushes + 1) * PUSH_EVERY && (pushes + 1) * PUSH_EVERY < POLLS) {
      pushes++;
      await pushCommit(ws, seed);
    }
    await Bun.sleep(50);
  }
  for (const name of LOOPS) {
    const n = Math.min(polls(name), POLLS);
    if (!samples[name].has(n)) samples[name].set(n, rssKb(pids[name]));
  }
  const converged = await waitFor(
    () =>
      git(ws, nodes.protocol, "rev-parse", "HEAD").then(
        async (r) => r.stdout === (await git(ws, seed, "rev-parse", "HEAD")).stdout,
      ),
    10_000,
    200,
  );
  const hwm = { protocol: hwmKb(pids.protocol), floor: hwmKb(pids.floor), bun: hwmKb(pids.bun) };
  const at = (name: Loop, n: number) => {
    const keys = [...samples[name].keys()].filter((k) => k >= n).sort((a, b) => a - b);
    return samples[name].get(keys[0] ?? -1) ?? NaN;
  };
  const last = {
    protocol: Math.max(...samples.protocol.keys()),
    floor: Math.max(...samples.floor.keys()),
    bun: Math.max(...samples.bun.keys()),
  };

  const status = { protocol: [] as number[], git: [] as number[] };
  for (let i = 0; i < STATUS_RUNS; i++) {
    status.protocol.push((await timeRss([BIN, "status", "--dir", nodes.protocol, "--json"], { env: ws.env })).rssKb);
    status.git.push((await timeRss(["git", "status", "--porcelain"], { cwd: nodes.protocol, env: ws.env })).rssKb);
  }
  const ps = stats(status.protocol);
  const gs = stats(status.git);

  const early = { protocol: at("protocol", EARLY), floor: at("floor", EARLY), bun: at("bun", EARLY) };
  const late = {
    protocol: samples.protocol.get(last.protocol)!,
    floor: samples.floor.get(last.floor)!,
    bun: samples.bun.get(last.bun)!,
  };
  const series = (name: Loop) =>
    [...samples[name].entries()]
      .filter(([n]) => n === 1 || n % 25 === 0 || n === last[name])
      .map(([n, kb]) => `${n}:${mb(kb)}`)
      .join(" ");
  return {
    id: "memory",
    title: "4. Memory",
    setup: [
      `Background loop at \`--interval ${INTERVAL}\` for ${POLLS} polls (BENCH_MEMORY_POLLS; 2,000 polls take 33 min at --interval 1, so the default is shorter), one push every ${PUSH_EVERY} polls (${pushes} pushes; node ${converged ? "converged" : "NOT converged"} on the last).`,
      "RSS = VmRSS of the loop process from /proc/<pid>/status, sampled as each poll's connection arrives at a counting proxy (a fetch counts as one connection too). Floors, same interval, beside it: the bash loop, and a compiled Bun program that only spawns `git ls-remote` (the runtime's own cost; the goal is 1.25x of it).",
      `\`protocol status --json\` and \`git status --porcelain\`: peak RSS from GNU time, ${STATUS_RUNS} runs each.`,
    ],
    rows: [
      {
        metric: `loop RSS after ${EARLY} polls (MB)`,
        protocol: mb(early.protocol),
        floor: mb(early.floor),
        ratio: ratio(early.protocol, early.floor),
      },
      {
        metric: `loop RSS after ${last.protocol} polls (MB)`,
        protocol: mb(late.protocol),
        floor: mb(late.floor),
        ratio: ratio(late.protocol, late.floor),
      },
      {
        metric: `loop RSS growth, poll ${EARLY} → ${last.protocol} (MB)`,
        protocol: mb(late.protocol - early.protocol),
        floor: mb(late.floor - early.floor),
        ratio: null,
      },
      {
        metric: `loop RSS after ${EARLY} polls (MB; floor: compiled Bun ls-remote loop)`,
        protocol: mb(early.protocol),
        floor: mb(early.bun),
        ratio: ratio(early.protocol, early.bun),
      },
      {
        metric: `loop RSS after ${last.protocol} polls (MB; floor: compiled Bun ls-remote loop)`,
        protocol: mb(late.protocol),
        floor: mb(late.bun),
        ratio: ratio(late.protocol, late.bun),
      },
      {
        metric: "loop peak RSS, VmHWM (MB; floor: compiled Bun ls-remote loop)",
        protocol: mb(hwm.protocol),
        floor: mb(hwm.bun),
        ratio: ratio(hwm.protocol, hwm.bun),
      },
      {
        metric: "loop peak RSS, VmHWM (MB)",
        protocol: mb(hwm.protocol),
        floor: mb(hwm.floor),
        ratio: ratio(hwm.protocol, hwm.floor),
      },
      {
        metric: "`status` peak RSS, median (MB; floor: git status)",
        protocol: mb(ps.median),
        floor: mb(gs.median),
        ratio: ratio(ps.median, gs.median),
      },
    ],
    raw: [
      `protocol loop RSS (poll:MB): ${series("protocol")}`,
      "",
      `floor loop RSS (poll:MB): ${series("floor")}`,
      "",
      `compiled Bun ls-remote loop RSS (poll:MB): ${series("bun")}`,
      "",
      `protocol status peak RSS (MB): ${status.protocol.map(mb).join(" ")}`,
      "",
      `git status peak RSS (MB): ${status.git.map(mb).join(" ")}`,
    ].join("\n"),
  };
});
