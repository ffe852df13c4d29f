import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { registryBackoffMs } from "../../src/lib/core/backoff.ts";
import { planNotice, REPEAT_FAILURE_MS } from "../../src/lib/deploy/notify.ts";
import { isQuarantined } from "../../src/lib/deploy/quarantine.ts";
import { pickRollbackTarget } from "../../src/lib/node/manual-rollback.ts";
import { type DeployRecord, NodeStateSchema } from "../../src/lib/schema/state.ts";

const idle = { failing: false, lastKey: null, lastSentAt: null };

describe("planNotice", () => {
  test("a success is sent as succeeded, and as recovered after a failure", () => {
    expect(planNotice(idle, { event: "succeeded", from: "a", to: "b" }, 0).send).toBe("succeeded");
    const failed = planNotice(idle, { event: "failed", from: "a", to: "b", error: "boom" }, 0);
    expect(failed.send).toBe("failed");
    expect(planNotice(failed.next, { event: "succeeded", from: "a", to: "c" }, 1).send).toBe("recovered");
  });

  test("the same failure is sent once, then again only after an hour; a different one at once", () => {
    const notice = { event: "rolled-back" as const, from: "a", to: "b", error: "health" };
    const first = planNotice(idle, notice, 0);
    expect(planNotice(first.next, notice, 60_000).send).toBeNull();
    expect(planNotice(first.next, notice, REPEAT_FAILURE_MS + 1).send).toBe("rolled-back");
    expect(planNotice(first.next, { ...notice, to: "c" }, 60_000).send).toBe("rolled-back");
  });
});

describe("quarantine", () => {
  const state = (quarantine: unknown) => v.parse(NodeStateSchema, { quarantine });
  const at = "2026-01-01T00:00:00.000Z";

  test("a quarantined commit matches whatever the digests", () => {
    const s = state({ commit: "bad", digests: null, reason: "r", at });
    expect(isQuarantined(s, "bad", null)).toBe(true);
    expect(isQuarantined(s, "bad", { img: "d1" })).toBe(true);
    expect(isQuarantined(s, "good", null)).toBe(false);
  });

  test("quarantined digests match only the same digests on the same commit", () => {
    const s = state({ commit: "c", digests: { img: "d1" }, reason: "r", at });
    expect(isQuarantined(s, "c", { img: "d1" })).toBe(true);
    expect(isQuarantined(s, "c", { img: "d2" })).toBe(false);
    expect(isQuarantined(s, "c", null)).toBe(false);
    expect(isQuarantined(state(null), "c", { img: "d1" })).toBe(false);
  });

  test("the registry backoff doubles from 30 s and is capped at 5 min", () => {
    expect([1, 2, 3, 4, 5, 10].map(registryBackoffMs)).toEqual([30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
  });
});

describe("pickRollbackTarget", () => {
  const deploy = (to: string, result: DeployRecord["result"] = "deployed", digest = `sha256:${to}`): DeployRecord => ({
    from: null,
    to,
    startedAt: "",
    durationMs: 0,
    result,
    reason: "commit",
    error: null,
    keptAs: null,
    compose: true,
    hooks: [],
    images: [{ service: "app", image: "app:latest", digest }],
    rolledBackTo: null,
  });

  test("takes the newest good deploy of another commit, with its digests", () => {
    const deploys = [deploy("a"), deploy("b"), deploy("c", "rolled-back"), deploy("b")];
    expect(pickRollbackTarget(deploys, "b")).toEqual({
      commit: "a",
      images: [{ service: "app", image: "app:latest", digest: "sha256:a" }],
    });
  });

  test("--to uses that commit's recorded digests, or none when it was never deployed here", () => {
    const deploys = [deploy("a"), deploy("b")];
    expect(pickRollbackTarget(deploys, "b", "a")?.images[0]?.digest).toBe("sha256:a");
    expect(pickRollbackTarget(deploys, "b", "z")).toEqual({ commit: "z", images: [] });
  });

  test("nothing to go back to gives null", () => {
    expect(pickRollbackTarget([deploy("a")], "a")).toBeNull();
    expect(pickRollbackTarget([], null)).toBeNull();
  });
});
