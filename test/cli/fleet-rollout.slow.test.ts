/**
 * Issue 15, fleet rollouts: 8 nodes on one machine (their own PROTOCOL_NODE_ID and state dir,
 * real git through `git daemon`, the fake docker), waves [25, 100] 3 seconds apart, node n0 the
 * canary. The tests run in order on one fleet, as an operator's day would go.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../helpers/fixture.ts";
import { FleetFixture } from "../helpers/fleet.ts";

const IDS = ["n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7"];
let fleet: FleetFixture;
const wave = (k: number) => fleet.nodes.filter((node) => node.wave === k);

beforeAll(async () => {
  fleet = await FleetFixture.create(IDS, { waves: [25, 100], waveSeconds: 3, canaries: ["n0"] });
  await fleet.startLoops();
  // Every node deploys the commit it was cloned at, at once: there is no rollout for a node's first commit.
  const tip = fleet.head(fleet.nodes[0]!);
  expect((await fleet.arrivals(tip, fleet.nodes, 20_000)).size).toBe(IDS.length);
}, 60_000);
afterAll(async () => fleet?.[Symbol.asyncDispose]());

/** Every node's fleet record pushed, none queued: what the status remote will see is all there. */
const nothingQueued = (nodes = fleet.nodes) =>
  eventually(async () => (await Promise.all(nodes.map((n) => fleet.status(n)))).every((s) => !s.fleetReport), 20_000);

describe("fleet rollout with waves and canaries", () => {
  test("the split: the canary and two others in the first wave, five in the second", () => {
    expect(wave(1).map((n) => n.id)).toEqual(["n0", "n2", "n6"]);
    expect(wave(2)).toHaveLength(5);
  });

  test("a good commit reaches the first wave first, then every node; a later node says it is waiting for its wave", async () => {
    const good = await fleet.push("good");
    const first = await fleet.arrivals(good, wave(1), 15_000);
    expect(first.size).toBe(3);
    // While the first wave runs it, the second waits, and says until when.
    const waiting = await fleet.status(wave(2)[0]!);
    expect(waiting.lastSync.result).toBe("waiting");
    expect(waiting.lastSync.error).toMatch(/^waiting for wave 2 of 2 \(deploys at \d{4}-/);
    expect(fleet.head(wave(2)[0]!)).not.toBe(good);
    const all = await fleet.arrivals(good, fleet.nodes, 20_000);
    expect(all.size).toBe(IDS.length);
    const lastOfFirst = Math.max(...wave(1).map((n) => first.get(n.id)!));
    for (const node of wave(2)) expect(all.get(node.id)!).toBeGreaterThan(lastOfFirst);
    // The fleet record has every node on it, deployed (each pushes its record after its sync, within its spread).
    const deployed = async () => {
      const shown = JSON.parse((await fleet.cli(fleet.nodes[0]!, ["fleet", "--json"])).stdout);
      expect(shown.envs[0].env).toBe("default");
      return shown.envs[0].nodes.filter(
        (n: { commit: string; result: string }) => n.commit === good && n.result === "deployed",
      ).length;
    };
    expect(await eventually(async () => (await deployed()) === IDS.length, 10_000)).toBe(true);
  }, 60_000);
});

describe("a bad commit", () => {
  let bad: string;
  let before: string;
  test("fails its health probe on the first wave and is deployed by no node of the second, which holds it and says why", async () => {
    before = fleet.head(fleet.nodes[0]!);
    bad = await fleet.push("bad", { bad: true });
    // The canary deploys it, the probe fails, it goes back.
    const canary = fleet.nodes[0]!;
    expect(await eventually(async () => (await fleet.status(canary)).lastDeploy?.to === bad, 15_000)).toBe(true);
    expect((await fleet.status(canary)).lastDeploy.result).toBe("rolled-back");
    // Every node of the second wave comes to its turn and holds.
    for (const node of wave(2)) {
      expect(await eventually(async () => (await fleet.status(node)).lastSync?.result === "held", 15_000)).toBe(true);
    }
    for (const node of wave(2)) {
      expect(fleet.head(node)).toBe(before);
      const status = await fleet.status(node);
      expect(status.lastSync.error).toMatch(new RegExp(`^held: canary n[026] failed ${bad.slice(0, 8)} at `));
      expect(JSON.stringify(status.lastDeploy)).not.toContain(bad);
    }
    const table = () => fleet.cli(fleet.nodes[1]!, ["fleet"]).then((run) => run.stdout);
    expect(await eventually(async () => (await table()).includes(`held ${bad.slice(0, 8)}`), 10_000)).toBe(true);
    expect(await table()).toContain(`rolled-back ${bad.slice(0, 8)}`);
  }, 60_000);

  test("the next commit (a fix) goes out to every node, wave by wave", async () => {
    const fix = await fleet.push("fix");
    expect((await fleet.arrivals(fix, fleet.nodes, 25_000)).size).toBe(IDS.length);
  }, 60_000);
});

describe("polite at scale", () => {
  test("idle polls read nothing from the status remote; a rollout costs each node a few requests there", async () => {
    // Settled: every node on the fix, nothing queued.
    expect(await nothingQueued()).toBe(true);
    const status0 = fleet.statusProxy.connections;
    const app0 = fleet.appProxy.connections;
    // Three polls per node of the app remote, and not one request to the status remote.
    expect(await eventually(() => fleet.appProxy.connections - app0 >= 3 * IDS.length, 15_000)).toBe(true);
    expect(fleet.statusProxy.connections).toBe(status0);
    const next = await fleet.push("polite");
    expect((await fleet.arrivals(next, fleet.nodes, 25_000)).size).toBe(IDS.length);
    // Every node's outcome record pushed: the count is final.
    expect(await nothingQueued()).toBe(true);
    // At most: the "waiting" record, one ls-remote and one fetch of the changed records, the outcome.
    const used = fleet.statusProxy.connections - status0;
    expect(used).toBeGreaterThanOrEqual(IDS.length);
    expect(used).toBeLessThanOrEqual(4 * IDS.length);
  }, 60_000);
});

describe("freeze and release", () => {
  test("rollout:freeze holds every node, the canary too; rollout:unfreeze lets the commit go out", async () => {
    const node = fleet.nodes[3]!;
    const frozen = await fleet.cli(node, ["rollout:freeze", "--reason", "incident 42"]);
    expect(frozen.exitCode).toBe(0);
    expect(frozen.stderr).toContain("froze default");
    const before = fleet.head(node);
    const held = await fleet.push("held-by-freeze");
    for (const n of fleet.nodes)
      expect(await eventually(async () => (await fleet.status(n)).lastSync?.result === "held", 15_000)).toBe(true);
    for (const n of fleet.nodes) expect(fleet.head(n)).toBe(before);
    const status = await fleet.status(fleet.nodes[0]!);
    expect(status.lastSync.error).toContain("frozen since");
    expect(status.lastSync.error).toContain("incident 42");
    expect((await fleet.cli(node, ["fleet"])).stdout).toContain("frozen since");
    expect((await fleet.cli(node, ["rollout:unfreeze"])).exitCode).toBe(0);
    expect((await fleet.arrivals(held, fleet.nodes, 25_000)).size).toBe(IDS.length);
    // Twice is safe.
    const again = await fleet.cli(node, ["rollout:unfreeze"]);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain("was not frozen");
  }, 60_000);

  test("rollout:release lets the later wave deploy a commit a canary failed", async () => {
    const before = fleet.head(fleet.nodes[1]!);
    const bad = await fleet.push("bad-released", { bad: true });
    for (const node of wave(2))
      expect(await eventually(async () => (await fleet.status(node)).lastSync?.result === "held", 20_000)).toBe(true);
    expect(fleet.head(wave(2)[0]!)).toBe(before);
    const released = await fleet.cli(fleet.nodes[1]!, ["rollout:release", bad.slice(0, 8)]);
    expect(released.exitCode).toBe(0);
    // Released: the second wave deploys it (and, its probe failing there too, rolls back to what it ran).
    for (const node of wave(2))
      expect(await eventually(async () => (await fleet.status(node)).lastDeploy?.to === bad, 20_000)).toBe(true);
  }, 60_000);
});

describe("not heard from, and a status remote that is down", () => {
  test("a node whose loop stopped is shown as stale once the others report a newer commit", async () => {
    const stopped = wave(2)[0]!;
    await fleet.stopLoops([stopped]);
    const next = await fleet.push("after-stop");
    const others = fleet.nodes.filter((n) => n !== stopped);
    expect((await fleet.arrivals(next, others, 25_000)).size).toBe(others.length);
    expect(await nothingQueued(others)).toBe(true);
    // Stale once 2 s have passed since the newest commit first appeared: waited for, not slept.
    const fleetNow = async () =>
      new Map<string, Record<string, unknown>>(
        JSON.parse(
          (await fleet.cli(fleet.nodes[0]!, ["fleet", "--json", "--stale-after", "2"])).stdout,
        ).envs[0].nodes.map((n: { node: string }) => [n.node, n]),
      );
    expect(await eventually(async () => (await fleetNow()).get(stopped.id)?.stale === true, 15_000)).toBe(true);
    const byNode = await fleetNow();
    for (const n of others) expect(byNode.get(n.id)).toMatchObject({ stale: false, result: "deployed", commit: next });
    expect((await fleet.cli(fleet.nodes[0]!, ["fleet", "--stale-after", "2"])).stdout).toContain(
      "stale: no report since",
    );
    await fleet.startLoops([stopped]);
    expect((await fleet.arrivals(next, [stopped], 25_000)).size).toBe(1);
  }, 60_000);

  test("with the status remote down the first wave deploys, the second waits for the record and deploys once it is back; records are pushed again", async () => {
    expect(await nothingQueued()).toBe(true);
    await fleet.statusRemoteDown();
    const next = await fleet.push("remote-down");
    expect((await fleet.arrivals(next, wave(1), 15_000)).size).toBe(wave(1).length);
    const later = wave(2)[1]!;
    expect(
      await eventually(
        async () => (await fleet.status(later)).lastSync?.error?.startsWith("waiting for the fleet record"),
        15_000,
      ),
    ).toBe(true);
    expect(fleet.head(later)).not.toBe(next);
    const canary = await fleet.status(fleet.nodes[0]!);
    expect(canary.fleetReport?.error).toBeTruthy();
    expect(canary.lastSync.result).toBe("up-to-date");
    await fleet.statusRemoteUp();
    expect((await fleet.arrivals(next, fleet.nodes, 30_000)).size).toBe(IDS.length);
    expect(await eventually(async () => (await fleet.status(fleet.nodes[0]!)).fleetReport === null, 20_000)).toBe(true);
  }, 90_000);
});
