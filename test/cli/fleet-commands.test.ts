/** Issue 15 at the command line: fleet and rollout:* refuse bad input, git:pull waits for its wave or goes --now. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { wavePlace } from "../../src/lib/fleet/waves.ts";
import { Fixture, git, sh } from "../helpers/fixture.ts";

let fx: Fixture;
const ROLLOUT = { waves: [1, 100], waveSeconds: 3600 };
// An id the hash puts in the second wave (checked, so a change to the hash cannot make this pass by accident).
const LATE = "web-7";

beforeEach(async () => {
  fx = await Fixture.create({ files: { "protocol.json": JSON.stringify({ rollout: ROLLOUT }) } });
});
afterEach(async () => fx[Symbol.asyncDispose]());

describe("rollout commands refuse what they cannot do", () => {
  test("without rollout.statusRemote, fleet says where to put one (exit 3)", async () => {
    const run = await fx.cli(["fleet", "--dir", fx.node]);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("has no rollout.statusRemote");
    expect(run.stderr).toContain("--remote <url>");
  });

  test("bad input is a usage error (exit 2) before anything is written", async () => {
    const remote = ["--remote", `${fx.root}/status.git`];
    const cases: [string[], string][] = [
      [["rollout:freeze", ...remote, "--env", "production"], "--reason"],
      [["rollout:freeze", ...remote, "--reason", "x"], "pass --env"],
      [["rollout:release", "zzz", ...remote, "--env", "production"], "is not a commit id"],
      [["rollout:release", "abc", ...remote, "--env", "production"], "is not a commit id"],
      [["fleet", ...remote, "--env", "a:b"], "--env"],
      [["fleet", "--remote", "x\ny"], "control character"],
      [["fleet", ...remote, "--stale-after", "-1"], "--stale-after"],
    ];
    for (const [args, message] of cases) {
      const run = await fx.cli(args);
      expect(run.exitCode, args.join(" ")).toBe(2);
      expect(run.stderr, args.join(" ")).toContain(message);
    }
  });

  test("a status remote that cannot be reached is a network error (exit 5) naming it", async () => {
    const run = await fx.cli(["fleet", "--remote", "git://127.0.0.1:1/status.git"]);
    expect(run.exitCode).toBe(5);
    expect(run.stderr).toContain("git://127.0.0.1:1/status.git is unreachable");
  });
});

describe("git:pull in a rollout", () => {
  test("waits for the node's wave (exit 0, says until when); --now deploys at once; status shows the node id and the wave", async () => {
    expect(wavePlace(LATE, ROLLOUT).wave).toBe(2);
    const env = { PROTOCOL_NODE_ID: LATE };
    expect((await fx.cli(["git:pull", "--dir", fx.node], { env })).exitCode).toBe(0);
    const before = await fx.head();
    await fx.push({ "new.txt": "x\n" });
    const waiting = await fx.cli(["git:pull", "--dir", fx.node], { env });
    expect(waiting.exitCode).toBe(0);
    expect(waiting.stderr).toContain("waiting for wave 2 of 2 (deploys at ");
    expect(waiting.stderr).toContain("git:pull --now");
    expect(await fx.head()).toBe(before);
    const status = await fx.cli(["status", "--dir", fx.node], { env });
    expect(status.stdout).toMatch(/node\s+web-7 \(from PROTOCOL_NODE_ID\)/);
    expect(status.stdout).toMatch(/rollout\s+waiting for wave 2 of 2/);
    const now = await fx.cli(["git:pull", "--dir", fx.node, "--now"], { env });
    expect(now.exitCode).toBe(0);
    expect(await fx.head()).not.toBe(before);
  });
});

describe("one node id, two machines", () => {
  const loop = { PROTOCOL_NODE_ID: "web-1" };
  const shell = { PROTOCOL_NODE_ID: "shell-9" };
  const ref = "refs/protocol/fleet/default/web-1";

  /** A node started with PROTOCOL_NODE_ID=web-1 (a canary) that has written its first record; its loop stopped. */
  async function nodeWithRecord(): Promise<string> {
    const statusRemote = join(fx.root, "status.git");
    await git(fx.root, "init", "--quiet", "--bare", statusRemote);
    await fx.push({ "protocol.json": JSON.stringify({ rollout: { canaries: ["web-1"], statusRemote } }) });
    const started = await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"], { env: loop });
    expect(started.exitCode, started.stderr).toBe(0);
    expect((await fx.cli(["git:slave:stop", "--dir", fx.node])).exitCode).toBe(0);
    // The first record: a deploy made with statusRemote (and web-1 a canary) in its protocol.json.
    expect((await fx.cli(["git:pull", "--dir", fx.node, "--now"], { env: loop })).exitCode).toBe(0);
    await fx.push({ "first.txt": "x\n" });
    expect((await fx.cli(["git:pull", "--dir", fx.node], { env: loop })).exitCode).toBe(0);
    return statusRemote;
  }

  test("status and doctor show the node id the loop runs with (recorded by start), not the shell's", async () => {
    await nodeWithRecord();
    const shown = await fx.cli(["status", "--dir", fx.node], { env: shell });
    expect(shown.stdout).toMatch(/node\s+web-1 \(from PROTOCOL_NODE_ID\)/);
    const doctor = await fx.cli(["doctor", "--dir", fx.node], { env: shell });
    const line = doctor.stdout.split("\n").find((l) => l.includes("status remote"))!;
    expect(line).toStartWith("✔");
    expect(line).toContain("node web-1 in default: record at ");
  });

  test("another machine's record under the id is flagged, escaped, by doctor, the next push, status and fleet", async () => {
    const statusRemote = await nodeWithRecord();
    const ours = JSON.parse(await git(statusRemote, "cat-file", "blob", `${ref}:record.json`));
    expect(ours.machine).toMatch(/\/[0-9a-f]{12}$/);
    // Another machine (a cloned image with the same PROTOCOL_NODE_ID) writes the ref; its name is hostile.
    const other = "cl\u001b[31mone\r/0123456789ab";
    const blob = (
      await sh(["git", "hash-object", "-w", "--stdin"], {
        cwd: statusRemote,
        input: JSON.stringify({ ...ours, machine: other, at: new Date().toISOString() }),
      })
    ).stdout.trim();
    const tree = (
      await sh(["git", "mktree"], { cwd: statusRemote, input: `100644 blob ${blob}\trecord.json\n` })
    ).stdout.trim();
    await git(statusRemote, "update-ref", ref, await git(statusRemote, "commit-tree", tree, "-m", "clone"));
    const escaped = "cl\\u001b[31mone\\r/0123456789ab";
    const doctor = await fx.cli(["doctor", "--dir", fx.node], { env: shell });
    const line = doctor.stdout.split("\n").find((l) => l.includes("status remote"))!;
    expect(line).toStartWith("✖");
    expect(line).toContain(`node id web-1 is also reported from machine ${escaped}`);
    expect(line).toContain("give each machine its own PROTOCOL_NODE_ID");
    // The next push finds it: the node's record and state carry the conflict.
    await fx.push({ "next.txt": "x\n" });
    const pulled = await fx.cli(["git:pull", "--dir", fx.node], { env: loop });
    expect(pulled.exitCode, pulled.stderr).toBe(0);
    expect(pulled.stderr).toContain(`node id web-1 is also reported from machine ${escaped}`);
    const shown = await fx.cli(["status", "--dir", fx.node], { env: shell });
    expect(shown.stdout).toContain(`node id web-1 is also reported from machine ${escaped}`);
    expect(shown.stdout).toMatch(/^fleet\s+node id web-1/m);
    const fleet = await fx.cli(["fleet", "--dir", fx.node]);
    expect(fleet.stdout).toMatch(/web-1 .*two machines: also reported from cl\\u001b\[31mone\\r\/0123456789ab/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for exactly these.
    for (const out of [doctor.stdout, shown.stdout, fleet.stdout]) expect(out).not.toMatch(/[\u001b\r]/);
  });
});
