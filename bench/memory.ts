/**
 * Figure 4, memory: RSS of the background loop after 10 polls and after N polls (default 200,
 * BENCH_MEMORY_POLLS; the issue's 2,000 polls at --interval 1 take 33 minutes), with a push every
 * 50 polls so the deploy path runs too. Floors beside it: the bash loop, and a compiled Bun program
 * that only runs `git ls-remote` every second (what the runtime itself costs). Also the peak RSS of
 * `protocol status` against `git status`.
 * In the same run, an app with a config repo that has a remote (compose file, recording fake docker):
 * the RSS of every protocol process of that app dir, summed (there must be exactly one), against the
 * same Bun floor, with config and app pushes on the way (issue 23's goal: ≤ 1.25x). Beside it the
 * same app with its loop run under BUN_JSC_useJIT=0: not what protocol does, it shows what the
 * JavaScriptCore JIT costs the loop.
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import {
  BIN,
  dropFromPageCache,
  envNumber,
  type FakeDocker,
  fakeDocker,
  figure,
  fmt,
  ratio,
  rssKb,
  rssPartsKb,
  run,
  stats,
  timeRss,
  type Workspace,
  waitFor,
} from "./lib.ts";
import {
  buildBunFloorLoop,
  type Connection,
  cachedRepo,
  cloneNode,
  git,
  pushCommit,
  readHead,
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

/** protocol's loop, the bash floor, the compiled Bun floor; and the app with a config repo, as is and without the JIT. */
const LOOPS = ["protocol", "floor", "bun", "app", "appNoJit"] as const;
type Loop = (typeof LOOPS)[number];
const APPS = ["app", "appNoJit"] as const;
type AppLoop = (typeof APPS)[number];
const isApp = (name: Loop): name is AppLoop => (APPS as readonly string[]).includes(name);
const hwmKb = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
const mb = (kb: number) => fmt(kb / 1024, 1);

/** Every live process of the compiled binary whose argv names `dir`: the app's loop(s), whatever started them. */
function protocolProcesses(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const exe = readlinkSync(`/proc/${entry}/exe`).replace(/ \(deleted\)$/, "");
      if ((exe === BIN || argv[0] === BIN) && argv.includes(dir)) pids.push(Number(entry));
    } catch {
      // exited while we looked, or a zombie (no exe link)
    }
  }
  return pids;
}

interface Summed {
  rssKb: number;
  hwmKb: number;
  anonKb: number;
  fileKb: number;
  count: number;
}

/** VmRSS (and its anon/file split) and VmHWM of `pids`, summed, and how many of them were alive. */
function sumRss(pids: number[]): Summed {
  const sum = { rssKb: 0, hwmKb: 0, anonKb: 0, fileKb: 0, count: 0 };
  for (const pid of pids) {
    try {
      const rss = rssKb(pid);
      const parts = rssPartsKb(pid);
      sum.hwmKb += hwmKb(pid);
      sum.anonKb += parts.anon;
      sum.fileKb += parts.file;
      sum.rssKb += rss;
      sum.count++;
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

interface ConfigApp {
  node: string;
  configDir: string;
  appSeed: string;
  configSeed: string;
  docker: FakeDocker;
  /** The app remote's connections (ls-remote polls and fetches), seen through a counting proxy. */
  connections: Connection[];
}

/**
 * The app of config.ts (docker-compose.yml with no services; the recording fake docker) with its
 * config repo beside it (`<app>-config`, branch production, one `.env`), both remotes bare repos
 * behind the git daemon; the app's remote behind a counting proxy, so its polls count as the others'.
 */
async function configApp(ws: Workspace, name: string, daemonPort: number): Promise<ConfigApp> {
  const srv = ws.path("srv");
  const appSeed = ws.path(`${name}-seed`);
  await git(ws, ws.root, "init", "--quiet", "--initial-branch=main", appSeed);
  writeFileSync(`${appSeed}/docker-compose.yml`, "services: {}\n");
  await git(ws, appSeed, "add", "docker-compose.yml");
  await git(ws, appSeed, "commit", "--quiet", "-m", "compose");
  await git(ws, ws.root, "clone", "--quiet", "--bare", appSeed, `${srv}/${name}.git`);
  await git(ws, appSeed, "remote", "add", "origin", `${srv}/${name}.git`);

  const configSeed = ws.path(`${name}-config-seed`);
  await git(ws, ws.root, "init", "--quiet", "--initial-branch=production", configSeed);
  writeFileSync(`${configSeed}/.env`, "SECRET=initial\n");
  await git(ws, configSeed, "add", ".env");
  await git(ws, configSeed, "commit", "--quiet", "-m", "production config");
  await git(ws, ws.root, "clone", "--quiet", "--bare", configSeed, `${srv}/${name}-config.git`);
  await git(ws, configSeed, "remote", "add", "origin", `${srv}/${name}-config.git`);

  const proxy = await startProxy(ws, daemonPort);
  const node = ws.path(`node-${name}`);
  await cloneNode(ws, `${srv}/${name}.git`, node, `git://127.0.0.1:${proxy.port}/${name}.git`);
  const configDir = `${node}-config`;
  await run(["git", "clone", "--quiet", "--branch", "production", `${srv}/${name}-config.git`, configDir], {
    env: ws.env,
  });
  await git(ws, configDir, "remote", "set-url", "origin", `git://127.0.0.1:${daemonPort}/${name}-config.git`);
  const docker = fakeDocker(ws, name);
  await run([BIN, "config:link", "--dir", node], { env: docker.env });
  return { node, configDir, appSeed, configSeed, docker, connections: proxy.connections };
}

let configRound = 0;
async function pushConfig(ws: Workspace, seed: string): Promise<void> {
  configRound++;
  writeFileSync(`${seed}/.env`, `SECRET=round-${configRound}-${Date.now()}\n`);
  await git(ws, seed, "commit", "--quiet", "-am", `config change ${configRound}`);
  await git(ws, seed, "push", "--quiet", "origin", "HEAD:production");
}

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
  for (const name of ["protocol", "floor", "bun"] as const)
    await cloneNode(ws, source, nodes[name], `git://127.0.0.1:${proxies[name].port}/app.git`);
  const apps = { app: await configApp(ws, "cfgapp", daemon.port), appNoJit: await configApp(ws, "nojit", daemon.port) };

  // Both executables start from the same page cache (see dropFromPageCache).
  await dropFromPageCache(BIN);
  await dropFromPageCache(await buildBunFloorLoop(ws));
  const pids = {
    protocol: await startProtocol(ws, nodes.protocol, INTERVAL),
    floor: startFloorLoop(ws, nodes.floor, INTERVAL),
    bun: await startBunFloorLoop(ws, nodes.bun, INTERVAL),
  };
  await startProtocol(ws, apps.app.node, INTERVAL, apps.app.docker.env);
  await startProtocol(ws, apps.appNoJit.node, INTERVAL, { ...apps.appNoJit.docker.env, BUN_JSC_useJIT: "0" });
  const startUps = { app: apps.app.docker.ups(), appNoJit: apps.appNoJit.docker.ups() };
  const connections = { ...proxies, ...apps };
  const base = {
    protocol: proxies.protocol.connections.length,
    floor: 0,
    bun: 0,
    app: apps.app.connections.length,
    appNoJit: apps.appNoJit.connections.length,
  };
  const polls = (name: Loop) => connections[name].connections.length - base[name];
  const samples = Object.fromEntries(LOOPS.map((name) => [name, new Map<number, number>()])) as Record<
    Loop,
    Map<number, number>
  >;
  const appCounts = { app: new Set<number>(), appNoJit: new Set<number>() };
  /** An app's figure: every protocol process naming its dir, summed; the others': the one loop. */
  const take = (name: Loop, n: number) => {
    if (isApp(name)) {
      const summed = sumRss(protocolProcesses(apps[name].node));
      appCounts[name].add(summed.count);
      samples[name].set(n, summed.rssKb);
    } else samples[name].set(n, rssKb(pids[name]));
  };
  let pushes = 0;
  // The apps with a config repo: a config push, then an app push, and so on, so both paths run.
  const appPushEvery = Math.max(1, Math.min(PUSH_EVERY, Math.floor(POLLS / 3)));
  const appPushes = { app: { config: 0, app: 0 }, appNoJit: { config: 0, app: 0 } };
  const deadline = Date.now() + (POLLS * INTERVAL * 1.3 + 60) * 1000;
  while (Date.now() < deadline && LOOPS.some((name) => polls(name) < POLLS)) {
    for (const name of LOOPS) {
      const n = polls(name);
      if (n > 0 && n <= POLLS && !samples[name].has(n)) take(name, n);
    }
    if (polls("protocol") >= (pushes + 1) * PUSH_EVERY && (pushes + 1) * PUSH_EVERY < POLLS) {
      pushes++;
      await pushCommit(ws, seed);
    }
    for (const name of APPS) {
      const done = appPushes[name];
      const next = done.config + done.app + 1;
      if (polls(name) < next * appPushEvery || next * appPushEvery >= POLLS) continue;
      if (next % 2 === 1) {
        done.config++;
        await pushConfig(ws, apps[name].configSeed);
      } else {
        done.app++;
        await pushCommit(ws, apps[name].appSeed);
      }
    }
    await Bun.sleep(50);
  }
  for (const name of LOOPS) {
    const n = Math.min(polls(name), POLLS);
    if (!samples[name].has(n)) take(name, n);
  }
  const converged = await waitFor(
    () =>
      git(ws, nodes.protocol, "rev-parse", "HEAD").then(
        async (r) => r.stdout === (await git(ws, seed, "rev-parse", "HEAD")).stdout,
      ),
    10_000,
    200,
  );
  const appConverged = (name: AppLoop) => {
    const app = apps[name];
    return waitFor(
      () => readHead(app.node) === readHead(app.appSeed) && readHead(app.configDir) === readHead(app.configSeed),
      10_000,
      200,
    );
  };
  const appDone = {
    app: { converged: await appConverged("app"), ups: apps.app.docker.ups() - startUps.app },
    appNoJit: { converged: await appConverged("appNoJit"), ups: apps.appNoJit.docker.ups() - startUps.appNoJit },
  };
  const appEnd = {
    app: sumRss(protocolProcesses(apps.app.node)),
    appNoJit: sumRss(protocolProcesses(apps.appNoJit.node)),
  };
  for (const name of APPS) appCounts[name].add(appEnd[name].count);
  const bunParts = rssPartsKb(pids.bun);
  const hwm = {
    protocol: hwmKb(pids.protocol),
    floor: hwmKb(pids.floor),
    bun: hwmKb(pids.bun),
    app: appEnd.app.hwmKb,
    appNoJit: appEnd.appNoJit.hwmKb,
  };
  const at = (name: Loop, n: number) => {
    const keys = [...samples[name].keys()].filter((k) => k >= n).sort((a, b) => a - b);
    return samples[name].get(keys[0] ?? -1) ?? NaN;
  };
  const last = Object.fromEntries(LOOPS.map((name) => [name, Math.max(...samples[name].keys())])) as Record<
    Loop,
    number
  >;

  const status = { protocol: [] as number[], git: [] as number[] };
  for (let i = 0; i < STATUS_RUNS; i++) {
    status.protocol.push((await timeRss([BIN, "status", "--dir", nodes.protocol, "--json"], { env: ws.env })).rssKb);
    status.git.push((await timeRss(["git", "status", "--porcelain"], { cwd: nodes.protocol, env: ws.env })).rssKb);
  }
  const ps = stats(status.protocol);
  const gs = stats(status.git);

  const early = Object.fromEntries(LOOPS.map((name) => [name, at(name, EARLY)])) as Record<Loop, number>;
  const late = Object.fromEntries(LOOPS.map((name) => [name, samples[name].get(last[name])!])) as Record<Loop, number>;
  const series = (name: Loop) =>
    [...samples[name].entries()]
      .filter(([n]) => n === 1 || n % 25 === 0 || n === last[name])
      .map(([n, kb]) => `${n}:${mb(kb)}`)
      .join(" ");
  const counts = (name: AppLoop) => [...appCounts[name]].sort((a, b) => a - b).join(", ") || "–";
  const split = (anon: number, file: number) => `anon ${mb(anon)} + file ${mb(file)}`;
  const appDoneText = (name: AppLoop) => {
    const done = appDone[name];
    const pushed = appPushes[name];
    return `${pushed.config} config and ${pushed.app} app pushes, ${done.ups} \`compose up\` calls, ${done.converged ? "converged" : "NOT converged"}`;
  };
  /** The rows of one app: RSS of all its processes after EARLY and after the last poll, and the peak, against the Bun floor at the same poll. */
  const appRows = (name: AppLoop, label: string) => [
    {
      metric: `${label}, all its processes' RSS after ${EARLY} polls (MB; floor: compiled Bun ls-remote loop)`,
      protocol: mb(early[name]),
      floor: mb(at("bun", EARLY)),
      ratio: ratio(early[name], at("bun", EARLY)),
    },
    {
      metric: `${label}, all its processes' RSS after ${last[name]} polls (MB; floor: compiled Bun ls-remote loop)`,
      protocol: mb(late[name]),
      floor: mb(at("bun", last[name])),
      ratio: ratio(late[name], at("bun", last[name])),
    },
    {
      metric: `${label}, all its processes' peak RSS, VmHWM (MB; floor: compiled Bun ls-remote loop)`,
      protocol: mb(hwm[name]),
      floor: mb(hwm.bun),
      ratio: ratio(hwm[name], hwm.bun),
    },
  ];
  return {
    id: "memory",
    title: "4. Memory",
    setup: [
      `Background loop at \`--interval ${INTERVAL}\` for ${POLLS} polls (BENCH_MEMORY_POLLS; 2,000 polls take 33 min at --interval 1, so the default is shorter), one push every ${PUSH_EVERY} polls (${pushes} pushes; node ${converged ? "converged" : "NOT converged"} on the last).`,
      "RSS = VmRSS of the loop process from /proc/<pid>/status, sampled as each poll's connection arrives at a counting proxy (a fetch counts as one connection too). Floors, same interval, beside it: the bash loop, and a compiled Bun program that only spawns `git ls-remote` (the runtime's own cost; the goal is 1.25x of it).",
      "Both executables (dist/protocol and the Bun floor) are dropped from the page cache before any loop starts: most of a compiled Bun program's RSS is its executable's pages, and a process maps more of them when more are cached (a just-written binary maps up to 5 MB more).",
      `\`protocol status --json\` and \`git status --porcelain\`: peak RSS from GNU time, ${STATUS_RUNS} runs each.`,
      `App with a config repo (as in figure 8: docker-compose.yml with no services, the recording fake docker, \`<app>-config\` on branch production with its remote behind the same git daemon): \`config:link\`, then \`protocol start --interval ${INTERVAL}\`, beside the loops above for ${POLLS} polls of its app remote, a config push then an app push every ${appPushEvery} polls (${appDoneText("app")}). RSS = VmRSS summed over every process of dist/protocol whose argv names the app dir, sampled as each poll's connection arrives at the app remote's proxy, against the Bun floor's sample at the same poll count.`,
      `The same app again, started with BUN_JSC_useJIT=0 in its environment (the loop inherits it: JavaScriptCore's interpreter only, no JIT), as a check (${appDoneText("appNoJit")}). protocol runs its loop without the JIT itself (LOOP_RUNTIME_ENV in src/lib/node/daemon.ts): the two should agree; before it did, the loop with the JIT was 1.59x after 60 polls.`,
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
        metric: "protocol processes of an app with a config repo (sampled; goal 1)",
        protocol: counts("app"),
        floor: "1",
        ratio: null,
      },
      ...appRows("app", "app with a config repo"),
      ...appRows("appNoJit", "the same app, loop without the JIT (BUN_JSC_useJIT=0)"),
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
      `app with a config repo, all its processes' RSS (poll:MB): ${series("app")}`,
      "",
      `the same app without the JIT, all its processes' RSS (poll:MB): ${series("appNoJit")}`,
      "",
      `At the end, MB: app ${split(appEnd.app.anonKb, appEnd.app.fileKb)}; without the JIT ${split(appEnd.appNoJit.anonKb, appEnd.appNoJit.fileKb)}; compiled Bun ls-remote loop ${split(bunParts.anon, bunParts.file)}. Processes of the app without the JIT (sampled): ${counts("appNoJit")}.`,
      "",
      `protocol status peak RSS (MB): ${status.protocol.map(mb).join(" ")}`,
      "",
      `git status peak RSS (MB): ${status.git.map(mb).join(" ")}`,
    ].join("\n"),
  };
});
