/**
 * Figure 3, idle poll cost: an up-to-date protocol loop at `--interval 1`, over 200 polls, for
 * three repo sizes at once. CPU = the loop's utime+stime+cutime+cstime from /proc/<pid>/stat;
 * bytes = both directions of each connection, counted by a TCP proxy in front of git daemon (one
 * proxy per repo, so every connection it sees is one poll). Floor: one `git ls-remote` of the
 * branch through the same proxy.
 */
import { cpuTimes, envNumber, figure, fmt, list, type Row, ratio, stats, type Workspace, waitFor } from "./lib.ts";
import { type Connection, cachedRepo, cloneNode, git, startDaemon, startProtocol, startProxy } from "./remote.ts";

const POLLS = envNumber("BENCH_IDLE_POLLS", 200);
const FLOOR_RUNS = 30;
const INTERVAL = 1;
const SIZES = [
  { name: "small", files: 100, commits: 100 },
  { name: "medium", files: 5_000, commits: 500 },
  { name: "large", files: 50_000, commits: 5_000 },
];

interface Measured {
  label: string;
  polls: number;
  cpuMsPerPoll: number;
  ownMsPerPoll: number;
  bytes: number[];
  floorCpuMs: number[];
  floorBytes: number[];
}

const settle = () => Bun.sleep(400); // a poll's ls-remote connection opens mid-poll; let the poll finish

async function measure(ws: Workspace, size: (typeof SIZES)[number], daemonPort: number): Promise<Measured> {
  const source = await cachedRepo(ws, size.files, size.commits);
  await git(ws, ws.root, "clone", "--quiet", "--bare", source, ws.path("srv", `${size.name}.git`));
  const proxy = await startProxy(ws, daemonPort);
  const url = `git://127.0.0.1:${proxy.port}/${size.name}.git`;
  const node = ws.path(`node-${size.name}`);
  await cloneNode(ws, source, node, url);

  // Floor first, before the loop runs, so the proxy's connections are only the floor's.
  const floorCpuMs: number[] = [];
  for (let i = 0; i < FLOOR_RUNS; i++)
    floorCpuMs.push((await git(ws, node, "ls-remote", "origin", "refs/heads/main")).cpuMs);
  await settle();
  const floorBytes = proxy.connections.splice(0).map((c) => c.up + c.down);

  const pid = await startProtocol(ws, node, INTERVAL);
  const seen = () => proxy.connections.length;
  const begin = seen() + 2; // skip start's own sync and the loop's first poll (it resolves the target)
  await waitFor(() => seen() >= begin, 30_000, 10);
  await settle();
  const n0 = seen();
  const cpu0 = cpuTimes(pid);
  await waitFor(() => seen() >= n0 + POLLS, (POLLS * INTERVAL * 1.2 + 60) * 1000, 20);
  await settle();
  const cpu1 = cpuTimes(pid);
  const window: Connection[] = proxy.connections.slice(n0, n0 + POLLS);
  return {
    label: `${size.name} (${size.files.toLocaleString("en")} files, ${size.commits.toLocaleString("en")} commits)`,
    polls: window.length,
    cpuMsPerPoll: ((cpu1.own + cpu1.children - cpu0.own - cpu0.children) * 1000) / window.length,
    ownMsPerPoll: ((cpu1.own - cpu0.own) * 1000) / window.length,
    bytes: window.map((c) => c.up + c.down),
    floorCpuMs,
    floorBytes,
  };
}

await figure("idle", async (ws) => {
  for (const size of SIZES) await cachedRepo(ws, size.files, size.commits);
  await git(ws, ws.root, "init", "--quiet", "--bare", ws.path("srv", "empty.git"));
  const daemon = await startDaemon(ws, ws.path("srv"));
  // The three sizes run side by side: 200 polls each take ~200 s of wall time.
  const results = await Promise.all(SIZES.map((size) => measure(ws, size, daemon.port)));

  const rows: Row[] = [];
  const raw: string[] = [];
  for (const r of results) {
    const bytes = stats(r.bytes);
    const floorBytes = stats(r.floorBytes);
    const floorCpu = stats(r.floorCpuMs);
    rows.push(
      {
        metric: `idle poll CPU, ${r.label} (ms/poll)`,
        protocol: fmt(r.cpuMsPerPoll, 1),
        floor: fmt(floorCpu.median, 1),
        ratio: ratio(r.cpuMsPerPoll, floorCpu.median),
      },
      {
        metric: `idle poll bytes on the wire, ${r.label} (median)`,
        protocol: fmt(bytes.median, 0),
        floor: fmt(floorBytes.median, 0),
        ratio: ratio(bytes.median, floorBytes.median),
      },
    );
    raw.push(
      `### ${r.label}`,
      "",
      `${r.polls} polls; loop CPU ${fmt(r.cpuMsPerPoll * r.polls, 0)} ms in total = ${fmt(r.cpuMsPerPoll, 2)} ms/poll (loop + its git children), of which the Bun process itself ${fmt(r.ownMsPerPoll, 2)} ms/poll and its git children ${fmt(r.cpuMsPerPoll - r.ownMsPerPoll, 2)} ms/poll (2 per poll: ls-remote, rev-parse).`,
      `protocol bytes per poll: median ${fmt(bytes.median, 0)}, min ${fmt(bytes.min, 0)}, max ${fmt(bytes.max, 0)}, total ${fmt(bytes.mean * bytes.n, 0)}.`,
      `floor \`git ls-remote origin refs/heads/main\` × ${r.floorCpuMs.length}: CPU ms ${list(r.floorCpuMs, 1)}; bytes ${list(r.floorBytes)}.`,
      "",
    );
  }
  return {
    id: "idle",
    title: "3. Idle poll cost",
    setup: [
      `${POLLS} idle polls (BENCH_IDLE_POLLS) of an up-to-date node at \`--interval ${INTERVAL}\`, three repo sizes running side by side.`,
      "CPU: delta of utime+stime+cutime+cstime of the background loop (/proc/<pid>/stat) over the window, divided by the polls in it.",
      "Bytes: both directions of each TCP connection, counted by a proxy in Bun between the client and git daemon. Floor: one `git ls-remote origin refs/heads/main` (CPU from its rusage).",
    ],
    rows,
    raw: raw.join("\n"),
  };
});
