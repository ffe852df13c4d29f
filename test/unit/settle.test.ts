import { describe, expect, test } from "bun:test";
import { judgeSettle, settledServices } from "../../src/lib/deploy/settle.ts";
import type { ContainerInfo } from "../../src/lib/docker/parse/inspect.ts";

const NOW = 1_700_000_000_000;
const c = (over: Partial<ContainerInfo>): ContainerInfo => ({
  id: "c1",
  service: "web",
  image: "i",
  imageId: "id",
  status: "running",
  running: true,
  exitCode: 0,
  health: null,
  startedAt: NOW - 60_000,
  restartCount: 0,
  labels: {},
  ...over,
});
const judge = (containers: ContainerInfo[], restarts = new Map<string, number>()) =>
  judgeSettle(containers, 10, NOW, restarts)?.kind ?? "settled";

describe("judgeSettle: one look at the containers after up", () => {
  test.each([
    ["running for longer than the settle time", [c({})], "settled"],
    ["started 2 s ago (settle 10 s)", [c({ startedAt: NOW - 2_000 })], "pending"],
    ["exited 0 (a one-shot that finished)", [c({ running: false, status: "exited", exitCode: 0 })], "settled"],
    ["exited 1", [c({ running: false, status: "exited", exitCode: 1 })], "failed"],
    ["dead", [c({ running: false, status: "dead", exitCode: 137 })], "failed"],
    ["restarting by its restart policy", [c({ status: "restarting" })], "failed"],
    ["unhealthy", [c({ health: "unhealthy" })], "failed"],
    ["its healthcheck still starting", [c({ health: "starting" })], "pending"],
    ["created, not started", [c({ running: false, status: "created" })], "pending"],
  ] as const)("%s → %s", (_, containers, verdict) => expect(judge([...containers])).toBe(verdict));

  test("a restart by the engine since the gate began fails it, though the container runs again", () => {
    expect(judge([c({ restartCount: 2 })], new Map([["c1", 1]]))).toBe("failed");
  });

  test("a service is a one-shot only when none of its containers runs and all exited 0", () => {
    const replicaExited = c({ id: "c2", running: false, status: "exited", exitCode: 0 });
    expect(settledServices([c({}), replicaExited])).toEqual({ running: ["web"], completed: [] });
    expect(settledServices([{ ...replicaExited, service: "migrate" }])).toEqual({
      running: [],
      completed: ["migrate"],
    });
  });
});
