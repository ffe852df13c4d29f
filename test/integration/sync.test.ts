import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadApp } from "../../src/lib/app/app.ts";
import { defaultProject } from "../../src/lib/app/project.ts";
import { readDeploys, readNodeState } from "../../src/lib/app/state.ts";
import { nextDelayMs } from "../../src/lib/core/backoff.ts";
import { runPass } from "../../src/lib/node/pass.ts";
import { FAKE_DOCKER_DIR, Fixture, git } from "../helpers/fixture.ts";

/** Trace every git command the sync runs, so tests can assert what it did not do. */
function traceGit(fx: Fixture): () => string[] {
  const path = join(fx.root, "git-trace.log");
  process.env.GIT_TRACE = path;
  return () =>
    existsSync(path)
      ? readFileSync(path, "utf8")
          .split("\n")
          .filter((line) => line.includes("trace: built-in: git") || line.includes("trace: exec: git"))
      : [];
}

let fx: Fixture;
const savedEnv = { ...process.env };

beforeEach(async () => {
  fx = await Fixture.create();
  process.env.FAKE_DOCKER_LOG = fx.env.FAKE_DOCKER_LOG;
  process.env.PATH = `${FAKE_DOCKER_DIR}:${savedEnv.PATH}`;
});

afterEach(async () => {
  process.env = { ...savedEnv };
  await fx[Symbol.asyncDispose]();
});

const sync = (opts: Partial<Parameters<typeof runPass>[1]> = {}) =>
  runPass(loadApp(fx.node), { command: "test", ...opts });

describe("one sync", () => {
  test("an idle poll makes one ls-remote, no fetch, and one docker ps of the services it keeps running (fake docker)", async () => {
    writeFileSync(join(fx.seed, "docker-compose.yml"), "services: {}\n");
    await fx.push({ "docker-compose.yml": "services: {}\n" }, "compose");
    await git(fx.node, "pull", "--quiet");
    expect((await sync()).result).toBe("deployed");
    const callsAfterDeploy = fx.dockerCalls().length;
    const trace = traceGit(fx);
    const idle = await sync();
    expect(idle.result).toBe("up-to-date");
    expect(idle.fetched).toBe(false);
    const commands = trace();
    expect(commands.filter((line) => line.includes("ls-remote"))).toHaveLength(1);
    // Nothing else looks at the working copy or the objects: no fetch, no status, no rev-list.
    const subcommands = commands.map((line) => line.replace(/^.*trace: (built-in|exec): git /, "").split(" ")[0]);
    expect([...new Set(subcommands)].sort()).toEqual(["ls-remote", "remote", "rev-parse", "upload-pack"]);
    expect(commands.some((line) => / fetch\b/.test(line))).toBe(false);
    // The containers are looked at (a stopped one is started again): one `ps`, no compose, no pull.
    const idleCalls = fx.dockerCalls().slice(callsAfterDeploy);
    expect(idleCalls.map((argv) => argv[0])).toEqual(["ps"]);
  });

  test("an idle poll that changes nothing does not rewrite the state file", async () => {
    expect((await sync()).result).toBe("deployed");
    expect((await sync()).result).toBe("up-to-date");
    const path = loadApp(fx.node).paths.status;
    // Content and nanosecond mtime, not the inode: ext4 reuses a freed inode after a rename.
    const written = () => ({ mtime: statSync(path, { bigint: true }).mtimeNs, text: readFileSync(path, "utf8") });
    const before = written();
    expect((await sync()).result).toBe("up-to-date");
    expect(written()).toEqual(before);
    await fx.push({ "app.txt": "v2\n" });
    expect((await sync()).result).toBe("deployed");
    expect(written().mtime).not.toBe(before.mtime);
    expect(written().text).not.toBe(before.text);
  });

  test("a pushed commit is fetched, fast-forwarded and recorded as a deploy", async () => {
    const before = await fx.head();
    const pushed = await fx.push({ "app.txt": "v2\n" });
    const outcome = await sync();
    expect(outcome).toMatchObject({ result: "deployed", from: before, to: pushed, fetched: true });
    expect(await fx.head()).toBe(pushed);
    const deploys = readDeploys(loadApp(fx.node).paths.deploys);
    expect(deploys.at(-1)).toMatchObject({ from: before, to: pushed, result: "deployed" });
    expect(readNodeState(loadApp(fx.node).paths.status)).toMatchObject({
      remoteCommit: pushed,
      deployedCommit: pushed,
    });
  });

  test("with a compose file, images are pulled before the working copy moves, then up -d with a fixed project name (fake docker)", async () => {
    await fx.push({ "docker-compose.yml": "services: {}\n", "protocol.json": JSON.stringify({ name: "Shop" }) });
    expect((await sync()).result).toBe("deployed");
    const project = defaultProject("Shop", fx.node);
    expect(project).toMatch(/^shop-[0-9a-f]{8}$/);
    const compose = fx.dockerCalls().filter((argv) => argv[0] === "compose" && argv[1] !== "version");
    expect(compose).toHaveLength(2);
    const [pull, up] = compose;
    expect(pull!.slice(0, 5)).toEqual(["compose", "--project-name", project, "--project-directory", fx.node]);
    expect(pull!.at(-1)).toBe("pull");
    expect(up).toEqual([
      "compose",
      "--project-name",
      project,
      "--file",
      "docker-compose.yml",
      "up",
      "-d",
      "--remove-orphans",
    ]);
  });

  test("a failing image pull leaves the working copy where it was (fake docker)", async () => {
    const before = await fx.head();
    process.env.FAKE_DOCKER_FAIL = "pull";
    await fx.push({ "docker-compose.yml": "services: {}\n" });
    const outcome = await sync();
    expect(outcome.result).toBe("error");
    expect(outcome.error).toContain("pull failed");
    expect(await fx.head()).toBe(before);
    expect(fx.dockerCalls().some((argv) => argv.includes("up"))).toBe(false);
  });

  test("refuses to deploy over a dirty working copy and changes nothing", async () => {
    const before = await fx.head();
    writeFileSync(join(fx.node, "README.md"), "edited on the server\n");
    await fx.push({ "app.txt": "v2\n" });
    const outcome = await sync();
    expect(outcome.result).toBe("dirty");
    expect(outcome.error).toContain("README.md");
    expect(await fx.head()).toBe(before);
    expect(readFileSync(join(fx.node, "README.md"), "utf8")).toBe("edited on the server\n");
    expect(readNodeState(loadApp(fx.node).paths.status).lastSync?.result).toBe("dirty");
  });

  test("a commit a finished fetch brought is not fetched again: the sync after a refusal only moves", async () => {
    writeFileSync(join(fx.node, "README.md"), "edited on the server\n");
    const pushed = await fx.push({ "app.txt": "v2\n" });
    expect(await sync()).toMatchObject({ result: "dirty", fetched: true });
    writeFileSync(join(fx.node, "README.md"), "hello\n");
    const trace = traceGit(fx);
    expect(await sync()).toMatchObject({ result: "deployed", fetched: false, to: pushed });
    expect(trace().some((line) => / fetch\b/.test(line))).toBe(false);
  });

  test("untracked files do not make the working copy dirty", async () => {
    writeFileSync(join(fx.node, "uploads.log"), "runtime data\n");
    const pushed = await fx.push({ "app.txt": "v2\n" });
    expect((await sync()).result).toBe("deployed");
    expect(await fx.head()).toBe(pushed);
    expect(readFileSync(join(fx.node, "uploads.log"), "utf8")).toBe("runtime data\n");
  });

  test("refuses when the node has local commits (ahead) and changes nothing", async () => {
    writeFileSync(join(fx.node, "local.txt"), "local\n");
    await git(fx.node, "add", "local.txt");
    await git(fx.node, "commit", "--quiet", "-m", "local commit");
    const before = await fx.head();
    const outcome = await sync();
    expect(outcome.result).toBe("ahead");
    expect(await fx.head()).toBe(before);
  });

  test("refuses when the histories diverged (remote rewritten) and changes nothing", async () => {
    const before = await fx.head();
    await git(fx.seed, "commit", "--quiet", "--amend", "-m", "rewritten");
    await git(fx.seed, "push", "--quiet", "--force", "origin", "HEAD:main");
    const outcome = await sync();
    expect(outcome.result).toBe("diverged");
    expect(await fx.head()).toBe(before);
  });

  test("--on-dirty=stash keeps the change in a stash whose name is reported, then deploys", async () => {
    writeFileSync(join(fx.node, "README.md"), "hotfix on the server\n");
    const pushed = await fx.push({ "app.txt": "v2\n" });
    const outcome = await sync({ onDirty: "stash" });
    expect(outcome.result).toBe("deployed");
    expect(outcome.keptAs).toMatch(/^stash [0-9a-f]{40}$/);
    expect(await fx.head()).toBe(pushed);
    const stashed = await git(fx.node, "show", "stash@{0}:README.md");
    expect(stashed).toBe("hotfix on the server");
    expect(readDeploys(loadApp(fx.node).paths.deploys).at(-1)?.keptAs).toBe(outcome.keptAs);
  });

  test("--on-diverged=reset keeps local commits under a backup ref, then matches the remote", async () => {
    writeFileSync(join(fx.node, "local.txt"), "local\n");
    await git(fx.node, "add", "local.txt");
    await git(fx.node, "commit", "--quiet", "-m", "local commit");
    const local = await fx.head();
    const pushed = await fx.push({ "app.txt": "v2\n" });
    const outcome = await sync({ onDiverged: "reset" });
    expect(outcome.result).toBe("deployed");
    expect(await fx.head()).toBe(pushed);
    const ref = outcome.keptAs ?? "";
    expect(ref).toMatch(/^refs\/protocol\/backup\//);
    expect(await git(fx.node, "rev-parse", ref)).toBe(local);
  });

  test("an opt-in never moves work aside for a sync that still refuses", async () => {
    writeFileSync(join(fx.node, "local.txt"), "local\n");
    await git(fx.node, "add", "local.txt");
    await git(fx.node, "commit", "--quiet", "-m", "local commit");
    writeFileSync(join(fx.node, "README.md"), "dirty too\n");
    await fx.push({ "app.txt": "v2\n" });
    const outcome = await sync({ onDirty: "stash" });
    expect(outcome.result).toBe("diverged");
    expect(await git(fx.node, "stash", "list")).toBe("");
    expect(readFileSync(join(fx.node, "README.md"), "utf8")).toBe("dirty too\n");
  });

  test("an unreachable remote counts each failed poll (the loop's backoff grows with them), and the next sync after it returns recovers", async () => {
    const moved = `${fx.remote}.away`;
    await Bun.$`mv ${fx.remote} ${moved}`.quiet();
    const down1 = await sync();
    const down2 = await sync();
    expect(down1.result).toBe("unreachable");
    expect(down2.result).toBe("unreachable");
    expect(readNodeState(loadApp(fx.node).paths.status).failures).toBe(2);
    // The delay the loop waits grows with that count (jitter aside: the shortest second wait is longer than the longest first).
    const interval = 10;
    const after = (failures: number) => [0, 1].map((r) => nextDelayMs(interval, failures, () => r));
    expect(Math.min(...after(2))).toBeGreaterThan(Math.max(...after(1)));
    expect(Math.min(...after(1))).toBeGreaterThan(Math.max(...after(0)));
    await Bun.$`mv ${moved} ${fx.remote}`.quiet();
    const pushed = await fx.push({ "app.txt": "back\n" });
    expect((await sync()).result).toBe("deployed");
    expect(await fx.head()).toBe(pushed);
    expect(readNodeState(loadApp(fx.node).paths.status).failures).toBe(0);
  });

  test("an invalid protocol.json in the incoming commit stops the sync before the working copy moves", async () => {
    const before = await fx.head();
    await fx.push({ "protocol.json": JSON.stringify({ git: { interval: 0 } }) });
    const outcome = await sync();
    expect(outcome.result).toBe("error");
    expect(outcome.error).toContain("git.interval");
    expect(await fx.head()).toBe(before);
  });

  test("a stale .git/index.lock from a killed git is removed and the sync goes on", async () => {
    const lock = join(fx.node, ".git", "index.lock");
    writeFileSync(lock, "");
    const old = new Date(Date.now() - 5 * 60_000);
    utimesSync(lock, old, old);
    const pushed = await fx.push({ "app.txt": "v2\n" });
    expect((await sync()).result).toBe("deployed");
    expect(await fx.head()).toBe(pushed);
    expect(existsSync(lock)).toBe(false);
  });

  test("a failed first deploy is quarantined: no retry until a new commit arrives (fake docker)", async () => {
    process.env.FAKE_DOCKER_FAIL = "up";
    const bad = await fx.push({ "docker-compose.yml": "services: {}\n" });
    const failed = await sync();
    expect(failed.result).toBe("error");
    expect(readDeploys(loadApp(fx.node).paths.deploys).at(-1)).toMatchObject({ to: bad, result: "failed" });
    delete process.env.FAKE_DOCKER_FAIL;
    const calls = fx.dockerCalls().length;
    const skipped = await sync();
    expect(skipped.result).toBe("quarantined");
    expect(fx.dockerCalls().length).toBe(calls);
    const fixed = await fx.push({ "app.txt": "fix\n" });
    expect((await sync()).result).toBe("deployed");
    expect(readNodeState(loadApp(fx.node).paths.status)).toMatchObject({ deployedCommit: fixed, quarantine: null });
  });
});
