/**
 * Figure 4, memory: RSS of the background loop after 10 polls and after N polls (default 200,
 * BENCH_MEMORY_POLLS; the 2,000 polls at --interval 1 take 33 minutes), with a push every
 * 50 polls so the deploy path runs too. Floor: the bash loop beside it. Also the peak RSS of
 * `protocol status` against `git status`.
 */
import { readFileSync } from "node:fs";
import { BIN, envNumber, figure, fmt, ratio, rssKb, stats, timeRss, waitFor } from "./lib.ts";
import {
  cachedRepo,
  cloneNode,
  git,
  pushCommit,
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

const hwmKb = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
const mb = (kb: number) => fmt(kb / 1024, 1);

await figure("memory", async (ws) => {
  const source = await cachedRepo(ws, 100, 100);
  await git(ws, ws.root, "clone", "--quiet", "--bare", source, ws.path("srv", "app.git"));
  const daemon = await startDaemon(ws, ws.path("srv"));
  const seed = ws.path("seed");
  await cloneNode(ws, source, seed, daemon.url("app.git"));
  const nodes = { protocol: ws.path("node-protocol"), floor: ws.path("node-floor") };
  const proxies = { protocol: await startProxy(ws, daemon.port), floor: await startProxy(ws, daemon.port) };
  for (const name of ["protocol", "floor"] as const)
    await cloneNode(ws, source, nodes[name], `git://127.0.0.1:${proxies[name].port}/app.git`);

  const pids = {
    protocol: await startProtocol(ws, nodes.protocol, INTERVAL),
    floor: startFloorLoop(ws, nodes.floor, INTERVAL),
  };
  const base = { protocol: proxies.protocol.connections.length, floor: 0 };
  const polls = (name: "protocol" | "floor") => proxies[name].connections.length - base[name];
  const samples = { protocol: new Map<number, number>(), floor: new Map<number, number>() };
  let pushes = 0;
  const deadline = Date.now() + (POLLS * INTERVAL * 1.3 + 60) * 1000;
  while (Date.now() < deadline && (polls("protocol") < POLLS || polls("floor") < POLLS)) {
    for (const name of ["protocol", "floor"] as const) {
      const n = polls(name);
      if (n > 0 && n <= POLLS && !samples[name].has(n)) samples[name].set(n, rssKb(pids[name]));
    }
    if (polls("protocol") >= (pushes + 1) * PUSH_EVERY && (pushes + 1) * PUSH_EVERY < POLLS) {
      pushes++;
      await pushCommit(ws, seed);
    }
    await Bun.sleep(50);
  }
  for (const name of ["protocol", "floor"] as const) {
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
  const hwm = { protocol: hwmKb(pids.protocol), floor: hwmKb(pids.floor) };
  const at = (name: "protocol" | "floor", n: number) => {
    const keys = [...samples[name].keys()].filter((k) => k >= n).sort((a, b) => a - b);
    return samples[name].get(keys[0] ?? -1) ?? NaN;
  };
  const last = { protocol: Math.max(...samples.protocol.keys()), floor: Math.max(...samples.floor.keys()) };

  const status = { protocol: [] as number[], git: [] as number[] };
  for (let i = 0; i < STATUS_RUNS; i++) {
    status.protocol.push((await timeRss([BIN, "status", "--dir", nodes.protocol, "--json"], { env: ws.env })).rssKb);
    status.git.push((await timeRss(["git", "status", "--porcelain"], { cwd: nodes.protocol, env: ws.env })).rssKb);
  }
  const ps = stats(status.protocol);
  const gs = stats(status.git);

  const early = { protocol: at("protocol", EARLY), floor: at("floor", EARLY) };
  const late = { protocol: samples.protocol.get(last.protocol)!, floor: samples.floor.get(last.floor)! };
  const series = (name: "protocol" | "floor") =>
    [...samples[name].entries()]
      .filter(([n]) => n === 1 || n % 25 === 0 || n === last[name])
      .map(([n, kb]) => `${n}:${mb(kb)}`)
      .join(" ");
  return {
    id: "memory",
    title: "4. Memory",
    setup: [
      `Background loop at \`--interval ${INTERVAL}\` for ${POLLS} polls (BENCH_MEMORY_POLLS; 2,000 polls take 33 min at --interval 1, so the default is shorter), one push every ${PUSH_EVERY} polls (${pushes} pushes; node ${converged ? "converged" : "NOT converged"} on the last).`,
      "RSS = VmRSS of the loop process from /proc/<pid>/status, sampled as each poll's connection arrives at a counting proxy (a fetch counts as one connection too). Floor: the bash loop, same interval, beside it.",
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
      `protocol status peak RSS (MB): ${status.protocol.map(mb).join(" ")}`,
      "",
      `git status peak RSS (MB): ${status.git.map(mb).join(" ")}`,
    ].join("\n"),
  };
});
