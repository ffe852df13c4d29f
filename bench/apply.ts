/**
 * Figure 2, apply cost: from a change on the remote to the working copy updated, no docker.
 * protocol: one `protocol git:pull` (ls-remote, fetch, checks, merge --ff-only, state files).
 * Floor: `git fetch origin main` + `git merge --ff-only FETCH_HEAD`, run as two processes.
 * Two repos: small, and 50,000 files / 5,000 commits. One extra traced git:pull per repo shows
 * which git commands protocol runs and what each costs (GIT_TRACE2_EVENT).
 */
import { readFileSync } from "node:fs";
import { BIN, envNumber, figure, fmt, list, type Row, ratio, run, stats, type Workspace } from "./lib.ts";
import { cachedRepo, cloneNode, git, pushCommit, startDaemon } from "./remote.ts";

const ROUNDS = envNumber("BENCH_APPLY_ROUNDS", 15);
const SIZES = [
  { name: "small", files: 100, commits: 100 },
  { name: "large", files: 50_000, commits: 5_000 },
];

interface Sample {
  ms: number;
  cpuMs: number;
}

async function floorApply(ws: Workspace, dir: string): Promise<Sample> {
  const fetch = await git(ws, dir, "fetch", "--quiet", "origin", "main");
  const merge = await git(ws, dir, "merge", "--ff-only", "--quiet", "FETCH_HEAD");
  return { ms: fetch.ms + merge.ms, cpuMs: fetch.cpuMs + merge.cpuMs };
}

async function protocolApply(ws: Workspace, dir: string, env = ws.env): Promise<Sample> {
  const ran = await run([BIN, "git:pull", "--dir", dir, "--json"], { env });
  if (JSON.parse(ran.stdout).result !== "deployed") throw new Error(`git:pull did not deploy: ${ran.stdout}`);
  return { ms: ran.ms, cpuMs: ran.cpuMs };
}

/** The top-level git commands of one traced run, with their wall time. */
function gitBreakdown(tracePath: string): { argv: string; ms: number }[] {
  const starts = new Map<string, string>();
  const out: { argv: string; ms: number }[] = [];
  for (const line of readFileSync(tracePath, "utf8").split("\n")) {
    if (!line) continue;
    const event = JSON.parse(line) as { event: string; sid: string; argv?: string[]; t_abs?: number };
    if (event.sid.includes("/")) continue; // a git child of a git command (index-pack, rev-list)
    if (event.event === "start")
      starts.set(
        event.sid,
        event
          .argv!.slice(1)
          .join(" ")
          .replace(/git:\/\/\S+/, "<url>"),
      );
    if (event.event === "exit" && starts.has(event.sid))
      out.push({ argv: starts.get(event.sid)!, ms: event.t_abs! * 1000 });
  }
  return out;
}

await figure("apply", async (ws) => {
  const rows: Row[] = [];
  const raw: string[] = [];
  for (const size of SIZES) {
    const source = await cachedRepo(ws, size.files, size.commits);
    const srv = ws.path(size.name, "srv");
    await git(ws, ws.root, "clone", "--quiet", "--bare", source, `${srv}/app.git`);
    const daemon = await startDaemon(ws, srv);
    const url = daemon.url("app.git");
    const dirs = {
      seed: ws.path(size.name, "seed"),
      protocol: ws.path(size.name, "node-protocol"),
      floor: ws.path(size.name, "node-floor"),
    };
    for (const dir of Object.values(dirs)) await cloneNode(ws, source, dir, url);
    // Warm the page cache and git's index stat data the same way for both nodes.
    for (const dir of [dirs.protocol, dirs.floor]) await git(ws, dir, "status", "--porcelain", "--untracked-files=no");

    const samples = { protocol: [] as Sample[], floor: [] as Sample[] };
    for (let i = 0; i < ROUNDS; i++) {
      await pushCommit(ws, dirs.seed);
      // Alternate who goes first, so neither always gets the warmer cache.
      const order = i % 2 ? (["floor", "protocol"] as const) : (["protocol", "floor"] as const);
      for (const who of order)
        samples[who].push(
          who === "protocol" ? await protocolApply(ws, dirs.protocol) : await floorApply(ws, dirs.floor),
        );
    }
    await pushCommit(ws, dirs.seed);
    const trace = ws.path(size.name, "trace.jsonl");
    await protocolApply(ws, dirs.protocol, { ...ws.env, GIT_TRACE2_EVENT: trace });
    await floorApply(ws, dirs.floor);
    const breakdown = gitBreakdown(trace);

    const p = stats(samples.protocol.map((s) => s.ms));
    const f = stats(samples.floor.map((s) => s.ms));
    const pc = stats(samples.protocol.map((s) => s.cpuMs));
    const fc = stats(samples.floor.map((s) => s.cpuMs));
    const label = `${size.name} (${size.files.toLocaleString("en")} files, ${size.commits.toLocaleString("en")} commits)`;
    rows.push(
      {
        metric: `apply, ${label}, median (ms)`,
        protocol: fmt(p.median, 0),
        floor: fmt(f.median, 0),
        ratio: ratio(p.median, f.median),
      },
      {
        metric: `apply, ${label}, p95 (ms)`,
        protocol: fmt(p.p95, 0),
        floor: fmt(f.p95, 0),
        ratio: ratio(p.p95, f.p95),
      },
      {
        metric: `apply, ${label}, CPU median (ms)`,
        protocol: fmt(pc.median, 0),
        floor: fmt(fc.median, 0),
        ratio: ratio(pc.median, fc.median),
      },
    );
    const gitTotal = breakdown.reduce((a, b) => a + b.ms, 0);
    raw.push(
      `### ${label}`,
      "",
      `protocol git:pull wall (ms): ${list(samples.protocol.map((s) => s.ms))}`,
      "",
      `protocol git:pull CPU (ms): ${list(samples.protocol.map((s) => s.cpuMs))}`,
      "",
      `floor fetch+merge wall (ms): ${list(samples.floor.map((s) => s.ms))}`,
      "",
      `floor fetch+merge CPU (ms): ${list(samples.floor.map((s) => s.cpuMs))}`,
      "",
      `git commands run by one traced \`protocol git:pull\` (GIT_TRACE2_EVENT; ${breakdown.length} commands, ${fmt(gitTotal, 0)} ms inside git):`,
      "",
      "| git command | ms |",
      "|---|---|",
      ...breakdown.map((b) => `| \`git ${b.argv}\` | ${fmt(b.ms, 1)} |`),
      "",
    );
  }
  return {
    id: "apply",
    title: "2. Apply cost",
    setup: [
      `${ROUNDS} rounds per repo (BENCH_APPLY_ROUNDS): push one commit changing one file, then update each node once, alternating which goes first.`,
      "protocol: `protocol git:pull --dir <node> --json` (compiled binary; includes its ls-remote). Floor: `git fetch --quiet origin main` + `git merge --ff-only --quiet FETCH_HEAD`.",
      "Remote behind git daemon on 127.0.0.1. Repos generated with git fast-import, cached in bench/.cache. CPU = user+sys of the process and its children.",
    ],
    rows,
    raw: raw.join("\n"),
  };
});
