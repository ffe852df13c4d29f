/**
 * The fleet fixture's clock (issue 24): arrivals() times every node from the commit's push, so the
 * times two calls return (the first wave, then every node) compare. Real git, no loop: the node's
 * working copy is moved by hand, as its loop would move it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { git } from "../helpers/fixture.ts";
import { FleetFixture } from "../helpers/fleet.ts";

let fleet: FleetFixture;
beforeAll(async () => {
  fleet = await FleetFixture.create(["n0", "n1"], {});
});
afterAll(async () => fleet?.[Symbol.asyncDispose]());

describe("FleetFixture.arrivals", () => {
  test("times a node from the commit's push, and two calls give it the same time", async () => {
    const [early, late] = fleet.nodes as [(typeof fleet.nodes)[0], (typeof fleet.nodes)[0]];
    const commit = await fleet.push("timed");
    await Bun.sleep(300);
    await git(early.dir, "pull", "--quiet");
    const first = await fleet.arrivals(commit, [early], 5_000);
    expect(first.get(early.id)!).toBeGreaterThanOrEqual(300);
    await Bun.sleep(300);
    await git(late.dir, "pull", "--quiet");
    const all = await fleet.arrivals(commit, fleet.nodes, 5_000);
    // The early node keeps the time it arrived at; the late one is measured from the same push.
    expect(all.get(early.id)).toBe(first.get(early.id)!);
    expect(all.get(late.id)!).toBeGreaterThanOrEqual(600);
    expect(all.get(late.id)!).toBeGreaterThan(all.get(early.id)!);
  });
});
