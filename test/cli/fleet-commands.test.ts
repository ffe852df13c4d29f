/** Issue 15 at the command line: fleet and rollout:* refuse bad input, git:pull waits for its wave or goes --now. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { wavePlace } from "../../src/lib/fleet/waves.ts";
import { Fixture } from "../helpers/fixture.ts";

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
