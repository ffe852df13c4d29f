/**
 * Figure 5, start-up: wall time (hyperfine when installed, own timing otherwise) and peak RSS
 * (GNU time) of the compiled binary for `--version`, `list` and `status`, against `git --version`.
 */
import { readFileSync } from "node:fs";
import { BIN, envNumber, figure, fmt, list, type Row, ratio, run, stats, timeRss, type Workspace } from "./lib.ts";
import { cachedRepo, cloneNode } from "./remote.ts";

const RUNS = envNumber("BENCH_STARTUP_RUNS", 40);
const RSS_RUNS = 15;

interface Timed {
  name: string;
  argv: string[];
  ms: number[];
  rssKb: number[];
}

/** Wall times in ms, by hyperfine (no shell, warmed up) or by spawning the command ourselves. */
async function wallTimes(ws: Workspace, commands: Timed[]): Promise<string> {
  if (Bun.which("hyperfine")) {
    const out = ws.path("hyperfine.json");
    const args = commands.flatMap((c) => ["-n", c.name, c.argv.join(" ")]);
    await run(["hyperfine", "-N", "--warmup", "5", "--runs", String(RUNS), "--export-json", out, ...args], {
      env: ws.env,
    });
    const results = JSON.parse(readFileSync(out, "utf8")).results as { command: string; times: number[] }[];
    for (const r of results) commands.find((c) => c.name === r.command)!.ms = r.times.map((t) => t * 1000);
    return `hyperfine ${(await run(["hyperfine", "--version"])).stdout.trim().split(" ")[1]}, -N (no shell), 5 warm-up runs, ${RUNS} runs`;
  }
  for (const c of commands) {
    for (let i = 0; i < 5; i++) await run(c.argv, { env: ws.env });
    for (let i = 0; i < RUNS; i++) c.ms.push((await run(c.argv, { env: ws.env })).ms);
  }
  return `own timing (hyperfine not installed): Bun.spawn to exit, 5 warm-up runs, ${RUNS} runs`;
}

await figure("startup", async (ws) => {
  const source = await cachedRepo(ws, 100, 100);
  const node = ws.path("node");
  await cloneNode(ws, source, node, source);
  await run([BIN, "git:pull", "--dir", node], { env: ws.env }); // so status has state to read
  // What the Bun runtime alone costs: a compiled hello world, built like dist/protocol.
  const hello = ws.path("hello");
  await Bun.write(ws.path("hello.ts"), 'console.log("hello");\n');
  const built = await Bun.build({
    entrypoints: [ws.path("hello.ts")],
    compile: { outfile: hello, autoloadDotenv: false, autoloadBunfig: false },
    minify: true,
  });
  if (!built.success) throw new Error("could not compile the hello world reference");
  const commands: Timed[] = [
    { name: "git --version", argv: ["git", "--version"], ms: [], rssKb: [] },
    { name: "compiled Bun hello world", argv: [hello], ms: [], rssKb: [] },
    { name: "protocol --version", argv: [BIN, "--version"], ms: [], rssKb: [] },
    { name: "protocol list", argv: [BIN, "list"], ms: [], rssKb: [] },
    { name: "protocol status --json", argv: [BIN, "status", "--dir", node, "--json"], ms: [], rssKb: [] },
  ];
  const how = await wallTimes(ws, commands);
  for (const c of commands)
    for (let i = 0; i < RSS_RUNS; i++) c.rssKb.push((await timeRss(c.argv, { env: ws.env })).rssKb);

  const floor = commands[0]!;
  const fw = stats(floor.ms);
  const fr = stats(floor.rssKb);
  const rows: Row[] = [];
  for (const c of commands.slice(2)) {
    const w = stats(c.ms);
    const r = stats(c.rssKb);
    rows.push(
      {
        metric: `\`${c.name}\` wall, median (ms)`,
        protocol: fmt(w.median, 1),
        floor: fmt(fw.median, 1),
        ratio: ratio(w.median, fw.median),
      },
      {
        metric: `\`${c.name}\` wall, p95 (ms)`,
        protocol: fmt(w.p95, 1),
        floor: fmt(fw.p95, 1),
        ratio: ratio(w.p95, fw.p95),
      },
      {
        metric: `\`${c.name}\` peak RSS, median (MB)`,
        protocol: fmt(r.median / 1024, 1),
        floor: fmt(fr.median / 1024, 1),
        ratio: ratio(r.median, fr.median),
      },
    );
  }
  // The goals of issue 9: --version within 1.5x and status --json within 4x of the runtime alone.
  const runtime = stats(commands[1]!.ms);
  for (const c of [commands[2]!, commands[4]!]) {
    const w = stats(c.ms);
    rows.push({
      metric: `\`${c.name}\` wall, median (ms; floor: compiled Bun hello world)`,
      protocol: fmt(w.median, 1),
      floor: fmt(runtime.median, 1),
      ratio: ratio(w.median, runtime.median),
    });
  }
  return {
    id: "startup",
    title: "5. Start-up",
    setup: [
      `The compiled binary (dist/protocol, ${fmt(Bun.file(BIN).size / 1e6, 0)} MB). Floor: \`git --version\`. Wall: ${how}.`,
      `Second floor, for the last rows: a compiled Bun hello world (the runtime alone) takes ${fmt(stats(commands[1]!.ms).median, 1)} ms and ${fmt(stats(commands[1]!.rssKb).median / 1024, 1)} MB.`,
      `Peak RSS: GNU time %M, ${RSS_RUNS} runs each. \`status\` reads a node that has synced once (local state only, no network).`,
    ],
    rows,
    raw: commands
      .map(
        (c) =>
          `\`${c.name}\`: wall ms ${list(c.ms, 1)}\n\npeak RSS MB ${list(
            c.rssKb.map((kb) => kb / 1024),
            1,
          )}\n`,
      )
      .join("\n"),
  };
});
