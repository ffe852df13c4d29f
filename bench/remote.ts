/**
 * The remote side of the benchmarks: generated repos (cached in bench/.cache), git daemon on
 * loopback, a byte-counting TCP proxy, node clones, and the two loops under test (protocol's
 * background loop and the plain bash floor loop).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { BIN, CACHE, killPid, run, spawnGroup, type Workspace, waitFor } from "./lib.ts";

// ---------------------------------------------------------------- git

export const git = (ws: Workspace, cwd: string, ...args: string[]) => run(["git", ...args], { cwd, env: ws.env });

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Daemon {
  port: number;
  url: (repo: string) => string;
}

/** `git daemon` on 127.0.0.1 serving every repo under `base`, push enabled; killed at close(). */
export async function startDaemon(ws: Workspace, base: string): Promise<Daemon> {
  const port = await freePort();
  spawnGroup(ws, [
    "git",
    "daemon",
    `--base-path=${base}`,
    "--export-all",
    "--enable=receive-pack",
    "--reuseaddr",
    "--max-connections=500",
    "--listen=127.0.0.1",
    `--port=${port}`,
    base,
  ]);
  await waitFor(() => canConnect(port), 10_000, 50);
  return { port, url: (repo) => `git://127.0.0.1:${port}/${repo}` };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * A bare repo with `files` files and `commits` commits on main, generated with git fast-import and
 * cached under bench/.cache (gitignored). Returns the cached path: clone it, never push to it.
 */
export async function cachedRepo(ws: Workspace, files: number, commits: number): Promise<string> {
  const dir = join(CACHE, `repo-${files}f-${commits}c.git`);
  if (existsSync(join(dir, "DONE"))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await git(ws, dir, "init", "--quiet", "--bare", "--initial-branch=main");
  const child = Bun.spawn(["git", "fast-import", "--quiet"], {
    cwd: dir,
    env: ws.env,
    stdin: "pipe",
    stdout: "ignore",
    stderr: "pipe",
  });
  const enc = new TextEncoder();
  const data = (text: string) => `data ${enc.encode(text).length}\n${text}\n`;
  const file = (i: number, c: number) =>
    `M 100644 inline d${i % 200}/f${i}.txt\n${data(`file ${i} revision ${c}\n${"x".repeat(64)}\n`)}`;
  const perCommit = Math.max(1, Math.ceil(files / commits));
  for (let c = 1; c <= commits; c++) {
    let text = `commit refs/heads/main\nmark :${c}\ncommitter Bench <bench@example.com> ${1_700_000_000 + c} +0000\n${data(`commit ${c}`)}`;
    if (c > 1) text += `from :${c - 1}\n`;
    if (c === 1) for (let i = 0; i < files; i++) text += file(i, c);
    else for (let k = 0; k < perCommit; k++) text += file((c * perCommit + k) % files, c);
    child.stdin.write(text);
  }
  await child.stdin.end();
  if ((await child.exited) !== 0) throw new Error(`fast-import failed: ${await new Response(child.stderr).text()}`);
  await git(ws, dir, "repack", "-adq");
  writeFileSync(join(dir, "DONE"), `${files} files, ${commits} commits\n`);
  return dir;
}

/** Clone `source` to `dir` (locally, fast) and point origin at `url`, as a node that cloned from the remote. */
export async function cloneNode(ws: Workspace, source: string, dir: string, url: string): Promise<void> {
  await run(["git", "clone", "--quiet", "--branch", "main", source, dir], { env: ws.env });
  await git(ws, dir, "remote", "set-url", "origin", url);
}

/** The commit a working copy's branch points at, read from the ref files (no process spawned). */
export function readHead(dir: string): string | null {
  const gitDir = join(dir, ".git");
  try {
    const head = readFileSync(join(gitDir, "HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head;
    const ref = head.slice(5);
    try {
      return readFileSync(join(gitDir, ref), "utf8").trim();
    } catch {
      const packed = readFileSync(join(gitDir, "packed-refs"), "utf8");
      return (
        packed
          .split("\n")
          .find((line) => line.endsWith(` ${ref}`))
          ?.split(" ")[0] ?? null
      );
    }
  } catch {
    return null;
  }
}

let counter = 0;
/**
 * Commit a change to one file in `seed` (and write `files`, path → text, with it) and push it;
 * returns the new commit once the push returned.
 */
export async function pushCommit(ws: Workspace, seed: string, files: Record<string, string> = {}): Promise<string> {
  counter++;
  const changed = { "bench-change.txt": `change ${counter} at ${Date.now()}\n`, ...files };
  for (const [path, text] of Object.entries(changed)) writeFileSync(join(seed, path), text);
  await git(ws, seed, "add", "--", ...Object.keys(changed));
  await git(ws, seed, "commit", "--quiet", "-m", `bench change ${counter}`);
  await git(ws, seed, "push", "--quiet", "origin", "HEAD:main");
  return (await git(ws, seed, "rev-parse", "HEAD")).stdout.trim();
}

// ---------------------------------------------------------------- the two loops

/** The floor: the plain bash loop the issue describes, same interval, no jitter. */
export const FLOOR_LOOP = `#!/usr/bin/env bash
# The floor: poll with ls-remote, on a change fetch and fast-forward. Nothing else.
cd "$1" || exit 1
while :; do
  remote=$(git ls-remote origin refs/heads/main)
  remote=\${remote%%[[:space:]]*}
  if [ -n "$remote" ] && [ "$remote" != "$(git rev-parse HEAD)" ]; then
    git fetch --quiet origin main && git merge --ff-only --quiet "$remote"
  fi
  sleep "$2"
done
`;

export function startFloorLoop(ws: Workspace, dir: string, interval: number): number {
  const script = ws.path("floor-loop.sh");
  if (!existsSync(script)) writeFileSync(script, FLOOR_LOOP, { mode: 0o755 });
  return spawnGroup(ws, ["bash", script, dir, String(interval)], { cwd: dir });
}

/** The runtime's own floor: a compiled Bun program that only runs `git ls-remote` every `interval` seconds. */
const BUN_FLOOR_LOOP = `const [dir, interval] = process.argv.slice(2);
for (;;) {
  const child = Bun.spawn(["git", "ls-remote", "origin", "refs/heads/main"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  await new Response(child.stdout).text();
  await child.exited;
  await Bun.sleep(Number(interval) * 1000);
}
`;

/** The compiled Bun ls-remote loop, built once per workspace; returns its path. */
export async function buildBunFloorLoop(ws: Workspace): Promise<string> {
  const binary = ws.path("bun-floor-loop");
  if (!existsSync(binary)) {
    writeFileSync(ws.path("bun-floor-loop.ts"), BUN_FLOOR_LOOP);
    const built = await Bun.build({
      entrypoints: [ws.path("bun-floor-loop.ts")],
      compile: { outfile: binary, autoloadDotenv: false, autoloadBunfig: false },
      minify: true,
    });
    if (!built.success) throw new Error("could not compile the Bun ls-remote floor loop");
  }
  return binary;
}

export async function startBunFloorLoop(ws: Workspace, dir: string, interval: number): Promise<number> {
  return spawnGroup(ws, [await buildBunFloorLoop(ws), dir, String(interval)], { cwd: dir });
}

/** `protocol start` (no cron) for `dir`; returns the background loop's pid. Both loops (app, config) stopped at close(). */
export async function startProtocol(ws: Workspace, dir: string, interval: number, env = ws.env): Promise<number> {
  const ran = await run([BIN, "start", "--dir", dir, "--interval", String(interval), "--no-cron", "--json"], { env });
  const report = JSON.parse(ran.stdout);
  const pid = Number(report.slave.pid);
  const configPid = Number(report.configSlave?.pid);
  ws.defer(async () => {
    await run([BIN, "stop", "--dir", dir, "--json"], { env, allowFail: true });
    await killPid(pid);
    if (Number.isFinite(configPid)) await killPid(configPid);
  });
  return pid;
}

// ---------------------------------------------------------------- byte-counting proxy

export interface Connection {
  at: number;
  up: number;
  down: number;
}

/** A TCP proxy in front of the git daemon that records every connection and its bytes each way. */
export async function startProxy(
  ws: Workspace,
  upstreamPort: number,
): Promise<{ port: number; connections: Connection[] }> {
  const connections: Connection[] = [];
  const server = net.createServer((client) => {
    const record: Connection = { at: performance.now(), up: 0, down: 0 };
    connections.push(record);
    const upstream = net.connect(upstreamPort, "127.0.0.1");
    client.on("data", (chunk) => {
      record.up += chunk.length;
    });
    upstream.on("data", (chunk) => {
      record.down += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  ws.defer(
    () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.unref();
      }),
  );
  return { port: (server.address() as net.AddressInfo).port, connections };
}
