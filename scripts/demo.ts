/**
 * `npm run demo`: protocol end to end in a throwaway temp dir. A bare remote, a developer clone
 * that pushes and a node clone that follows; its own state dir, git identity and a fake crontab
 * first on PATH, so nothing outside the temp dir (your crontab, your git config) is touched.
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repo = join(import.meta.dir, "..");
const cli = join(repo, "src", "cli.ts");
const tmp = mkdtempSync(join(tmpdir(), "protocol-demo-"));
const [remote, developer, node, state, bin] = ["remote.git", "developer", "node", "state", "bin"].map((name) =>
  join(tmp, name),
) as [string, string, string, string, string];
const crontabFile = join(tmp, "crontab");
const gitConfig = join(tmp, "gitconfig");

const env: Record<string, string | undefined> = {
  ...process.env,
  PATH: `${bin}:${process.env.PATH}`,
  PROTOCOL_HOME: state,
  FAKE_CRONTAB: crontabFile,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: gitConfig,
  GIT_AUTHOR_NAME: "Demo Developer",
  GIT_AUTHOR_EMAIL: "developer@example.invalid",
  GIT_COMMITTER_NAME: "Demo Developer",
  GIT_COMMITTER_EMAIL: "developer@example.invalid",
};

const bold = process.stdout.isTTY && !process.env.NO_COLOR;
const say = (text: string) => console.log(bold ? `\n\x1b[1m==> ${text}\x1b[0m` : `\n==> ${text}`);
let current: Bun.Subprocess | undefined;

/** Run a program quietly and return its stdout; throw with its stderr when it fails. */
async function capture(argv: string[], cwd = tmp): Promise<string> {
  const child = Bun.spawn(argv, { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`${argv.join(" ")} failed (exit ${code}): ${err.trim()}`);
  return out.trim();
}

/** Run protocol from source with the terminal attached, so its own output shows; returns the exit code. */
async function protocol(...args: string[]): Promise<number> {
  console.log(`$ protocol ${args.join(" ")}`);
  current = Bun.spawn([process.execPath, cli, ...args], { cwd: tmp, env, stdio: ["ignore", "inherit", "inherit"] });
  return current.exited;
}

async function pushChange(file: string, text: string, message: string): Promise<string> {
  writeFileSync(join(developer, file), text);
  await capture(["git", "add", "--all"], developer);
  await capture(["git", "commit", "--quiet", "-m", message], developer);
  await capture(["git", "push", "--quiet", "origin", "HEAD:main"], developer);
  return capture(["git", "rev-parse", "HEAD"], developer);
}

const readCrontab = () =>
  existsSync(crontabFile) ? readFileSync(crontabFile, "utf8").trimEnd() || "(empty)" : "(no crontab)";

/** Live slave loops of this demo: a git:slave process whose argv names the temp dir (Linux /proc). */
function loopPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((pid) => {
        try {
          const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8");
          return /^\d+$/.test(pid) && argv.includes("git:slave") && argv.includes(tmp);
        } catch {
          return false;
        }
      })
      .map(Number);
  } catch {
    return []; // no /proc (macOS): protocol stop is all there is
  }
}

let followed = false;
let stopped = false;
let cleaning: Promise<void> | undefined;
/** Always stop the background loop and remove the temp dir, whatever happened before; once. */
const cleanup = () =>
  (cleaning ??= (async () => {
    await current?.exited; // a start interrupted mid-way must finish spawning before we look for its loop
    if (!stopped && existsSync(node)) await protocol("stop", "--dir", node).catch(() => undefined);
    for (const pid of loopPids())
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone already */
      }
    rmSync(tmp, { recursive: true, force: true });
  })());

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    console.log(`\n${signal}: stopping the slave loop and cleaning up`);
    await cleanup();
    process.exit(130);
  });
}

try {
  say(`setting up a throwaway world in ${tmp}`);
  mkdirSync(bin);
  copyFileSync(join(repo, "test", "fixtures", "bin", "crontab"), join(bin, "crontab"));
  chmodSync(join(bin, "crontab"), 0o755);
  writeFileSync(gitConfig, "[init]\n\tdefaultBranch = main\n");
  await capture(["git", "init", "--quiet", "--bare", remote]);
  await capture(["git", "clone", "--quiet", remote, developer]);
  const first = await pushChange("index.html", "<h1>version 1</h1>\n", "version 1");
  await capture(["git", "clone", "--quiet", remote, node]);
  console.log(`remote:    ${remote} (a bare repo, standing in for GitHub/GitLab)`);
  console.log(`developer: ${developer} (pushed ${first.slice(0, 8)} "version 1")`);
  console.log(`node:      ${node} (a clone, standing in for a server)`);
  console.log(`state dir: ${state} (PROTOCOL_HOME); crontab: fake, kept in ${crontabFile}`);
  const docker = Bun.which("docker", { PATH: env.PATH ?? "" });
  console.log(
    `docker steps are skipped: the demo app has no compose file${docker ? "" : " (and docker is not installed)"}, so only git is exercised`,
  );

  say("starting the node: one sync now, then slave mode in the background, polling every 1 s");
  if ((await protocol("start", "--dir", node, "--interval", "1")) !== 0) throw new Error("protocol start failed");

  say("the crontab block start wrote (so the node comes back after a reboot)");
  console.log(readCrontab());

  say("the developer pushes a new commit");
  const second = await pushChange("index.html", "<h1>version 2</h1>\n", "version 2");
  console.log(`pushed ${second.slice(0, 8)} "version 2"; waiting for the node to follow (up to 20 s)`);
  const started = Date.now();
  while (Date.now() - started < 20_000) {
    if ((await capture(["git", "-C", node, "rev-parse", "HEAD"])) === second) {
      followed = true;
      break;
    }
    await Bun.sleep(100);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    followed
      ? `the node followed in ${seconds} s: it now serves "version 2"`
      : `the node did NOT follow within ${seconds} s`,
  );

  say("protocol status: the node at a glance");
  await protocol("status", "--dir", node);

  say("protocol deploy:log: what the node deployed, and when");
  await protocol("deploy:log", "--dir", node);

  say("stopping the node: slave mode ends and the @reboot line goes");
  if ((await protocol("stop", "--dir", node)) !== 0) throw new Error("protocol stop failed");
  stopped = true;
  console.log("crontab after stop (the block is removed):");
  console.log(readCrontab());
} catch (error) {
  if (!cleaning) console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  followed = false;
} finally {
  await cleanup();
}

say(followed ? "done: the temp dir is gone and no loop is left running" : "the demo failed (see above); cleaned up");
process.exitCode = followed ? 0 : 1;
