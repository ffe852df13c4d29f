import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { hostnameAsNodeId, nodeIdentity } from "../../src/lib/fleet/identity.ts";
import { type EnvView, holdFor, parseFleetRef, staleNodes } from "../../src/lib/fleet/records.ts";
import { fleetReport, formatAge, renderFleet } from "../../src/lib/fleet/view.ts";
import { dueAtMs, recheckMs, spreadMs, wavePlace } from "../../src/lib/fleet/waves.ts";
import type { FleetRecord } from "../../src/lib/schema/fleet.ts";
import { describeIssues, ProtocolJsonSchema } from "../../src/lib/schema/protocol-json.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const record = (node: string, commit: string, result: FleetRecord["result"], at: string): FleetRecord => ({
  node,
  env: "production",
  app: "shop",
  commit,
  running: commit,
  result,
  at,
  wave: 1,
  dueAt: null,
  error: null,
  version: "1.0.0",
  machine: null,
  conflict: null,
});

describe("node identity", () => {
  const machineId = join(mkdtempSync(join(tmpdir(), "mid-")), "machine-id");
  writeFileSync(machineId, "0123456789abcdef0123456789abcdef\n");

  test("PROTOCOL_NODE_ID first, then /etc/machine-id, then the host name", () => {
    expect(nodeIdentity({ PROTOCOL_NODE_ID: "web-1" }, machineId)).toEqual({ id: "web-1", source: "PROTOCOL_NODE_ID" });
    expect(nodeIdentity({}, machineId)).toEqual({ id: "0123456789abcdef0123456789abcdef", source: "machine-id" });
    expect(nodeIdentity({}, "/nonexistent").source).toBe("hostname");
  });

  test("a PROTOCOL_NODE_ID git would refuse in a ref is a config error naming it", () => {
    for (const bad of ["a/b", "..x", "x.lock", "-x", "a b", "x".repeat(65), "a\nb"])
      expect(() => nodeIdentity({ PROTOCOL_NODE_ID: bad }, machineId)).toThrow(/PROTOCOL_NODE_ID/);
  });

  test("a host name becomes a valid node id", () => {
    expect(hostnameAsNodeId("web-1.example.com")).toBe("web-1.example.com");
    expect(hostnameAsNodeId("we b/1")).toBe("we-b-1");
    expect(hostnameAsNodeId("...")).toBe("node");
    expect(hostnameAsNodeId("web.lock")).toBe("web");
    expect(hostnameAsNodeId("x".repeat(80))).toHaveLength(64);
  });
});

describe("waves", () => {
  const rollout = { waves: [10, 50, 100], waveSeconds: 60, canaries: ["canary-1"] };

  test("every node computes the same split, close to the percentages, canaries first", () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `node-${i}`);
    const counts = [0, 0, 0];
    for (const id of ids) counts[wavePlace(id, rollout).wave - 1]!++;
    expect(counts[0]).toBeGreaterThan(70);
    expect(counts[0]).toBeLessThan(130);
    expect(counts[0]! + counts[1]!).toBeGreaterThan(440);
    expect(counts[0]! + counts[1]!).toBeLessThan(560);
    expect(wavePlace("node-5", rollout)).toEqual(wavePlace("node-5", rollout));
    expect(wavePlace("canary-1", rollout)).toEqual({ wave: 1, waves: 3, within: 0 });
    expect(wavePlace("anything", {})).toMatchObject({ wave: 1, waves: 1 });
  });

  test("wave k deploys (k-1) × waveSeconds after the commit was first seen, later waves spread over at most 30 s", () => {
    const place = { wave: 3, waves: 3, within: 0.5 };
    expect(spreadMs(place, rollout)).toBe(7_500);
    expect(dueAtMs(1_000, place, rollout)).toBe(1_000 + 120_000 + 7_500);
    expect(dueAtMs(1_000, { wave: 1, waves: 3, within: 0.9 }, rollout)).toBe(1_000);
    expect(spreadMs({ wave: 2, waves: 2, within: 0.99 }, { waveSeconds: 3600 })).toBeLessThanOrEqual(30_000);
  });

  test("a hold is read again at the waves' pace: at most every 30 s, never faster than the node polls", () => {
    expect(recheckMs({ waveSeconds: 3 }, 1)).toBe(3_000);
    expect(recheckMs({ waveSeconds: 300 }, 10)).toBe(30_000);
    expect(recheckMs({ waveSeconds: 3 }, 60)).toBe(60_000);
  });

  test("protocol.json's rollout is checked: ascending waves ending at 100, valid canary ids", () => {
    const problem = (rollout: unknown) => {
      const result = v.safeParse(ProtocolJsonSchema, { rollout });
      return result.success ? null : describeIssues(result.issues);
    };
    expect(
      problem({ waves: [5, 30, 100], waveSeconds: 300, canaries: ["web-1"], statusRemote: "git@h:f.git" }),
    ).toBeNull();
    expect(problem({ waves: [30, 5, 100] })).toContain("rollout.waves: must be ascending");
    expect(problem({ waves: [5, 30] })).toContain("must end at 100");
    expect(problem({ waves: [] })).toContain("at least one wave");
    expect(problem({ waves: [0.5, 100] })).toContain("whole percentages");
    expect(problem({ canaries: ["a/b"] })).toContain("rollout.canaries.0: must be a node id");
    expect(problem({ statusRemote: "x\ny" })).toContain("control characters");
    expect(problem({ waveSeconds: 0 })).toContain("rollout.waveSeconds");
  });
});

const view = (records: FleetRecord[], extra: Partial<EnvView> = {}): EnvView => ({
  records,
  freeze: null,
  releases: [],
  ignored: [],
  ...extra,
});

describe("the fleet record", () => {
  test("refs: a node's record, the freeze, a release; anything else is not ours", () => {
    expect(parseFleetRef("refs/protocol/fleet/production/web-1")).toEqual({
      kind: "record",
      env: "production",
      node: "web-1",
    });
    expect(parseFleetRef("refs/protocol/fleet/feature/x/web-1")).toEqual({
      kind: "record",
      env: "feature/x",
      node: "web-1",
    });
    expect(parseFleetRef("refs/protocol/control/production/freeze")).toEqual({ kind: "freeze", env: "production" });
    expect(parseFleetRef("refs/protocol/control/production/release/abc1234")).toEqual({
      kind: "release",
      env: "production",
      commit: "abc1234",
    });
    expect(parseFleetRef("refs/protocol/fleet/production/x.lock")).toBeNull();
    expect(parseFleetRef("refs/heads/main")).toBeNull();
  });

  test("a commit another node failed or rolled back is held; an infrastructure error, the node's own failure, or a release is not", () => {
    const failed = [record("web-1", A, "rolled-back", "2026-01-01T00:00:00.000Z")];
    expect(holdFor(view(failed), A, "web-2")).toMatchObject({ kind: "canary", node: "web-1" });
    expect(holdFor(view(failed), A, "web-2")?.message).toStartWith("canary web-1 failed aaaaaaaa at 2026-01-01");
    expect(holdFor(view(failed), B, "web-2")).toBeNull();
    expect(holdFor(view(failed), A, "web-1")).toBeNull();
    expect(holdFor(view([record("web-1", A, "error", "2026-01-01T00:00:00.000Z")]), A, "web-2")).toBeNull();
    expect(holdFor(view([record("web-1", A, "failed", "2026-01-01T00:00:00.000Z")]), A, "web-2")?.kind).toBe("canary");
    const released = view(failed, { releases: [{ commit: A.slice(0, 7), by: "ops", at: "x" }] });
    expect(holdFor(released, A, "web-2")).toBeNull();
    const frozen = view([], { freeze: { reason: "incident 42", by: "ops@laptop", at: "2026-01-01T00:00:00.000Z" } });
    expect(holdFor(frozen, B, "web-2")).toMatchObject({ kind: "freeze" });
    expect(holdFor(frozen, B, "web-2")?.message).toContain("incident 42");
    expect(holdFor(undefined, A, "web-2")).toBeNull();
  });

  test("stale: not reporting the fleet's newest commit long after it appeared; an idle fleet has none", () => {
    const now = Date.parse("2026-01-01T01:00:00.000Z");
    const idle = [
      record("a", A, "deployed", "2026-01-01T00:00:00.000Z"),
      record("b", A, "deployed", "2026-01-01T00:05:00.000Z"),
    ];
    expect(staleNodes(idle, now, 600_000).size).toBe(0);
    const moved = [
      record("a", B, "deployed", "2026-01-01T00:40:00.000Z"),
      record("b", A, "deployed", "2026-01-01T00:05:00.000Z"),
    ];
    expect([...staleNodes(moved, now, 600_000)]).toEqual(["b"]);
    // Just after the new commit appeared, a slower node is not stale yet.
    expect(staleNodes(moved, Date.parse("2026-01-01T00:45:00.000Z"), 600_000).size).toBe(0);
    expect(staleNodes([], now, 1).size).toBe(0);
  });

  test("a record dated in the future is 'clock ahead': it never turns stale off for the fleet", () => {
    const now = Date.parse("2026-01-01T01:00:00.000Z");
    const records = [
      record("a", B, "deployed", "2026-01-01T00:40:00.000Z"),
      record("b", A, "deployed", "2026-01-01T00:05:00.000Z"),
      record("forger", A, "deployed", "2099-01-01T00:00:00.000Z"),
    ];
    // The 2099 record does not make its commit the fleet's newest: b and the forger are stale.
    expect([...staleNodes(records, now, 600_000)].sort()).toEqual(["b", "forger"]);
    // A few seconds of skew is not "ahead".
    const skewed = [record("a", B, "deployed", new Date(now + 5_000).toISOString()), records[1]!];
    expect(staleNodes(skewed, now + 700_000, 600_000)).toEqual(new Set(["b"]));
    const [env] = fleetReport(new Map([["production", view(records)]]), now, 600_000);
    const forger = env!.nodes.find((n) => n.node === "forger")!;
    expect(forger).toMatchObject({ clockAhead: true, stale: true, ageSeconds: 0 });
    // Not a time at all: the same, never NaN.
    const [garbled] = fleetReport(
      new Map([["production", view([record("x", A, "deployed", "yesterday-ish")])]]),
      now,
      600_000,
    );
    expect(garbled!.nodes[0]).toMatchObject({ clockAhead: true, ageSeconds: 0 });
    expect(renderFleet([env!], "x").find((line) => line.startsWith("forger"))).toContain(
      "clock ahead: reported at 2099-01-01T00:00:00.000Z, and stale",
    );
  });

  test("fleet prints every field a node wrote escaped: no raw ESC, CR, BEL or newline reaches the terminal", () => {
    const now = Date.parse("2026-01-01T01:00:00.000Z");
    const hostile = {
      ...record("web-1", A, "failed", "2026-01-01T00:59:00.000Z"),
      error: "boom\r\u001b[2Kweb-2  1  bbbbbbbb  deployed\u0007\nforged line\u009b31m",
    };
    const frozen = view([hostile], {
      freeze: { reason: "\u001b]0;owned\u0007", by: "ops\rX", at: "2026-01-01T00:00:00.000Z" },
      ignored: [{ ref: "refs/protocol/fleet/production/x", why: "bad\u001b[31m" }],
    });
    const lines = renderFleet(fleetReport(new Map([["production", frozen]]), now, 600_000), "url");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for exactly these.
    for (const line of lines) expect(line).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/);
    expect(lines.join("\n")).toContain("boom\\r\\u001b[2Kweb-2");
    expect(lines.filter((line) => line.startsWith("web-"))).toHaveLength(1);
  });

  test("ages read as an operator says them", () => {
    expect([formatAge(5), formatAge(300), formatAge(3 * 3600), formatAge(5 * 86_400)]).toEqual([
      "5s",
      "5m",
      "3h",
      "5d",
    ]);
  });
});
