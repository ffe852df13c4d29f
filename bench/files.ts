/**
 * Figure 10, state files: what Bun's own file API (Bun.file().json(), Bun.write) saves over node:fs
 * for the files a pass reads and writes. Three compiled programs run the Bun floor loop (`git
 * ls-remote` every second) and, each pass, the state file I/O of a protocol pass: under the sync lock
 * (written whole, linked into place, removed), status.json read four times, config-status.json and
 * the loop's two lock files once each (stat for the size, read, JSON.parse), then status.json and
 * config-status.json written atomically (temp file, rename). They differ only in the API:
 *   node     node:fs, synchronous, as protocol does it (core/fs.ts, core/json-file.ts, app/lock.ts)
 *   bun      Bun.file().size/.json() and Bun.write for the state files; node:fs still for the
 *            rename and the lock (Bun has neither rename nor link): what switching would give
 *   bunOnly  Bun's API alone: Bun.write straight over the file and a lock file that is not
 *            exclusive. Not usable (a crash mid-write tears the file; two passes can both lock);
 *            the lower bound of what the API itself costs
 * Beside them the floor, the same loop with no file I/O. RSS is read when a program has made its
 * passes (all executables dropped from the page cache first), time per pass inside the program.
 */
import { dropFromPageCache, envNumber, figure, fmt, ratio, rssKb, stats, type Workspace } from "./lib.ts";
import { buildBunFloorLoop, cachedRepo, cloneNode } from "./remote.ts";

const PASSES = envNumber("BENCH_FILES_PASSES", 60);
const REPS = envNumber("BENCH_FILES_REPS", 2);
const INTERVAL = 1;
/** Passes left out of the times: the first reads load the modules. */
const WARMUP = 5;

const VARIANTS = ["node", "bun", "bunOnly"] as const;
type Variant = (typeof VARIANTS)[number];

/** A status.json and a config-status.json as an idle node has them (1.1 KB and 0.2 KB). */
const STATUS = {
  images: [],
  quarantine: null,
  project: "app-88f6cf00",
  deploying: null,
  hooksDone: null,
  services: { running: ["web"], completed: [] },
  follow: { app: true, config: true },
  heal: { restarts: [], crashLoop: null },
  paused: null,
  registry: { failures: 0, nextCheckAt: null, error: null, updateAvailable: null },
  notify: { failing: false, lastKey: null, lastSentAt: null },
  lastRecovery: null,
  rollout: null,
  fleetReport: null,
  remoteCommit: "f8ae4445824f88f3bdec49f20620606a0b757c75",
  remoteSeenAt: "2026-12-07T15:23:28.711Z",
  deployedCommit: "f8ae4445824f88f3bdec49f20620606a0b757c75",
  deployedConfigHash: "11189c0dbf74e4c3c0311db162d7111a7371160cca6f4f9a8ad5b54f70d46502",
  lastSync: { at: "2026-12-07T15:23:28.711Z", result: "up-to-date", error: null, durationMs: 95 },
  failures: 0,
  announced: { result: "up-to-date", error: null, at: "2026-12-07T15:05:08.051Z" },
};
const CONFIG_STATUS = {
  remoteCommit: "8490665650ce14f41e0fe14810493c748901436e",
  lastSync: { at: "2026-12-07T15:23:28.710Z", result: "up-to-date", error: null, durationMs: 94 },
  failures: 0,
  announced: null,
};
const HOLDER = { pid: 4242, command: "git:slave", host: "node-1", startedAt: "2026-12-07T15:05:07.980Z" };

/** The pass's I/O in each variant: `readPass` (under the sync lock) and `writePass`, over STATE. */
const IO: Record<Variant, string> = {
  node: `import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
const readJson = (path) => ((statSync(path, { throwIfNoEntry: false })?.size ?? 0) > 16 * 1024 * 1024 ? null : JSON.parse(readFileSync(path, "utf8")));
const writeJson = (path, value) => {
  const tmp = path + "." + process.pid + ".tmp";
  const fd = openSync(tmp, "w", 0o644);
  try { writeSync(fd, JSON.stringify(value, null, 2) + "\\n"); } finally { closeSync(fd); }
  renameSync(tmp, path);
};
const lock = () => {
  mkdirSync(STATE, { recursive: true });
  const tmp = STATE + "/sync.lock." + process.pid;
  writeFileSync(tmp, JSON.stringify(HOLDER));
  linkSync(tmp, STATE + "/sync.lock");
  unlinkSync(tmp);
};
const unlock = () => unlinkSync(STATE + "/sync.lock");
const setup = () => { mkdirSync(STATE, { recursive: true }); for (const [name, value] of FILES) writeJson(STATE + "/" + name, value); };
`,
  bun: `import { linkSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
const readJson = async (path) => { const file = Bun.file(path); return file.size > 16 * 1024 * 1024 ? null : await file.json(); };
const writeJson = async (path, value) => {
  const tmp = path + "." + process.pid + ".tmp";
  await Bun.write(tmp, JSON.stringify(value, null, 2) + "\\n");
  renameSync(tmp, path);
};
const lock = () => {
  mkdirSync(STATE, { recursive: true });
  const tmp = STATE + "/sync.lock." + process.pid;
  writeFileSync(tmp, JSON.stringify(HOLDER));
  linkSync(tmp, STATE + "/sync.lock");
  unlinkSync(tmp);
};
const unlock = () => unlinkSync(STATE + "/sync.lock");
const setup = async () => { for (const [name, value] of FILES) await Bun.write(STATE + "/" + name, JSON.stringify(value, null, 2) + "\\n", { createPath: true }); };
`,
  bunOnly: `const readJson = async (path) => { const file = Bun.file(path); return file.size > 16 * 1024 * 1024 ? null : await file.json(); };
const writeJson = (path, value) => Bun.write(path, JSON.stringify(value, null, 2) + "\\n");
const lock = () => Bun.write(STATE + "/sync.lock", JSON.stringify(HOLDER));
const unlock = () => Bun.file(STATE + "/sync.lock").delete();
const setup = async () => { for (const [name, value] of FILES) await Bun.write(STATE + "/" + name, JSON.stringify(value, null, 2) + "\\n", { createPath: true }); };
`,
};

function program(variant: Variant): string {
  return `const [dir, interval, STATE, passes] = process.argv.slice(2);
const HOLDER = ${JSON.stringify(HOLDER)};
const FILES = [["status.json", ${JSON.stringify(STATUS)}], ["config-status.json", ${JSON.stringify(CONFIG_STATUS)}], ["slave.lock", HOLDER], ["git-slave.lock", HOLDER]];
${IO[variant]}
await setup();
const reads = [];
const writes = [];
for (let pass = 1; ; pass++) {
  const child = Bun.spawn(["git", "ls-remote", "origin", "refs/heads/main"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  await new Response(child.stdout).text();
  await child.exited;
  let started = performance.now();
  await lock();
  let status;
  for (let i = 0; i < 4; i++) status = await readJson(STATE + "/status.json");
  const config = await readJson(STATE + "/config-status.json");
  await readJson(STATE + "/slave.lock");
  await readJson(STATE + "/git-slave.lock");
  await unlock();
  reads.push(performance.now() - started);
  started = performance.now();
  status.lastSync.at = config.lastSync.at = new Date().toISOString();
  await writeJson(STATE + "/status.json", status);
  await writeJson(STATE + "/config-status.json", config);
  writes.push(performance.now() - started);
  if (pass === Number(passes)) console.log(JSON.stringify({ reads, writes }));
  await Bun.sleep(Number(interval) * 1000);
}
`;
}

async function compile(ws: Workspace, name: string, source: string): Promise<string> {
  const binary = ws.path(`files-${name}`);
  await Bun.write(`${binary}.ts`, source);
  const built = await Bun.build({
    entrypoints: [`${binary}.ts`],
    compile: { outfile: binary, autoloadDotenv: false, autoloadBunfig: false },
    minify: true,
  });
  if (!built.success) throw new Error(`could not compile the ${name} program: ${built.logs.join("\n")}`);
  return binary;
}

/** The first line a program prints on stdout (its times, once it made its passes). */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes("\n")) break;
  }
  return text;
}

await figure("files", async (ws) => {
  const source = await cachedRepo(ws, 100, 100);
  const node = ws.path("node");
  await cloneNode(ws, source, node, source);
  const binaries = {
    floor: await buildBunFloorLoop(ws),
    node: await compile(ws, "node", program("node")),
    bun: await compile(ws, "bun", program("bun")),
    bunOnly: await compile(ws, "bunOnly", program("bunOnly")),
  };
  for (const binary of Object.values(binaries)) await dropFromPageCache(binary);

  // Every program REPS times, all at once, each with its own state dir; RSS when its times come out.
  const runs: { name: Variant | "floor"; pid: number; out: Promise<string>; rssKb: number }[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const name of ["floor", ...VARIANTS] as const) {
      const argv =
        name === "floor"
          ? [binaries.floor, node, String(INTERVAL)]
          : [binaries[name], node, String(INTERVAL), ws.path(`state-${name}-${rep}`), String(PASSES)];
      const child = Bun.spawn(argv, { cwd: node, env: ws.env, stdio: ["ignore", "pipe", "ignore"] });
      ws.defer(() => child.kill());
      const entry = { name, pid: child.pid, out: Promise.resolve(""), rssKb: Number.NaN };
      if (name !== "floor")
        entry.out = firstLine(child.stdout).then((line) => {
          entry.rssKb = rssKb(child.pid);
          return line;
        });
      runs.push(entry);
    }
  }
  const finished = await Promise.race([
    Promise.all(runs.map((r) => r.out)).then(() => true),
    Bun.sleep((PASSES * INTERVAL * 1.5 + 60) * 1000).then(() => false),
  ]);
  if (!finished) throw new Error(`the programs did not make ${PASSES} passes in time`);
  // The floors beside them, once the last program is done.
  for (const r of runs) if (r.name === "floor") r.rssKb = rssKb(r.pid);

  const times = async (name: Variant) => {
    const parsed = await Promise.all(
      runs
        .filter((r) => r.name === name)
        .map(async (r) => JSON.parse(await r.out) as { reads: number[]; writes: number[] }),
    );
    return {
      read: stats(parsed.flatMap((p) => p.reads.slice(WARMUP))).median * 1000,
      write: stats(parsed.flatMap((p) => p.writes.slice(WARMUP))).median * 1000,
    };
  };
  const rss = (name: Variant | "floor") => stats(runs.filter((r) => r.name === name).map((r) => r.rssKb)).median;
  const mb = (kb: number) => fmt(kb / 1024, 1);
  const t = { node: await times("node"), bun: await times("bun"), bunOnly: await times("bunOnly") };
  const all = (name: Variant | "floor") =>
    runs
      .filter((r) => r.name === name)
      .map((r) => mb(r.rssKb))
      .join(" ");
  return {
    id: "files",
    title: "10. State files: node:fs or Bun's file API",
    setup: [
      `Three compiled programs, each the Bun ls-remote loop (\`--interval ${INTERVAL}\`) plus, every pass, a protocol pass's state file I/O: under the sync lock (written, linked into place, removed), status.json read 4 times, config-status.json and the two loop locks once (size, read, JSON.parse); then status.json and config-status.json written atomically (temp file, rename). \`node\`: node:fs, synchronous, as protocol does it. \`bun\`: Bun.file().size/.json() and Bun.write for the state files, node:fs for the rename and the lock (Bun's API has neither). \`bun only\`: Bun's API alone (Bun.write over the file, a lock that is not exclusive): not usable, the API's own lower bound.`,
      `${REPS} of each (BENCH_FILES_REPS) and ${REPS} Bun floor loops with no file I/O, all at once; RSS (median) when a program has made ${PASSES} passes (BENCH_FILES_PASSES), every executable dropped from the page cache first. Times (median over every pass after the first ${WARMUP}) measured inside the programs.`,
    ],
    rows: [
      {
        metric: `RSS after ${PASSES} passes, node:fs (MB; floor: Bun ls-remote loop, no file I/O)`,
        protocol: mb(rss("node")),
        floor: mb(rss("floor")),
        ratio: ratio(rss("node"), rss("floor")),
      },
      {
        metric: `RSS after ${PASSES} passes, Bun.file/Bun.write for the state files (MB; floor: node:fs)`,
        protocol: mb(rss("bun")),
        floor: mb(rss("node")),
        ratio: ratio(rss("bun"), rss("node")),
      },
      {
        metric: `RSS after ${PASSES} passes, Bun's API only, not usable (MB; floor: node:fs)`,
        protocol: mb(rss("bunOnly")),
        floor: mb(rss("node")),
        ratio: ratio(rss("bunOnly"), rss("node")),
      },
      {
        metric: "read the state files under the sync lock, per pass (µs; floor: node:fs)",
        protocol: fmt(t.bun.read, 0),
        floor: fmt(t.node.read, 0),
        ratio: ratio(t.bun.read, t.node.read),
      },
      {
        metric: "write status.json and config-status.json atomically, per pass (µs; floor: node:fs)",
        protocol: fmt(t.bun.write, 0),
        floor: fmt(t.node.write, 0),
        ratio: ratio(t.bun.write, t.node.write),
      },
      {
        metric: "read, Bun's API only (µs; floor: node:fs)",
        protocol: fmt(t.bunOnly.read, 0),
        floor: fmt(t.node.read, 0),
        ratio: ratio(t.bunOnly.read, t.node.read),
      },
      {
        metric: "write, Bun's API only (µs; floor: node:fs)",
        protocol: fmt(t.bunOnly.write, 0),
        floor: fmt(t.node.write, 0),
        ratio: ratio(t.bunOnly.write, t.node.write),
      },
    ],
    raw: [
      `RSS (MB) — floor: ${all("floor")}; node: ${all("node")}; bun: ${all("bun")}; bun only: ${all("bunOnly")}`,
      "",
      `per pass (µs, median) — node: read ${fmt(t.node.read, 0)}, write ${fmt(t.node.write, 0)}; bun: read ${fmt(t.bun.read, 0)}, write ${fmt(t.bun.write, 0)}; bun only: read ${fmt(t.bunOnly.read, 0)}, write ${fmt(t.bunOnly.write, 0)}`,
    ].join("\n"),
  };
});
