import { describe, expect, test } from "bun:test";
import { judgeLoop } from "../../src/lib/node/doctor-loops.ts";
import type { NodeState, Registration } from "../../src/lib/schema/state.ts";

describe("judgeLoop (doctor's check of one registered loop)", () => {
  const registration: Registration = {
    dir: "/srv/shop",
    name: "shop",
    enabled: true,
    interval: 60,
    onDirty: "refuse",
    onDiverged: "refuse",
    updatedAt: "2026-12-01T00:00:00.000Z",
  } as Registration;
  const now = Date.parse("2026-12-01T12:00:00.000Z");
  const state = (lastSyncAt: string, failures = 0, result = "up-to-date") =>
    ({ lastSync: { at: lastSyncAt, result, error: failures ? "boom" : null, durationMs: 1 }, failures }) as NodeState;
  const running = { running: true, pid: 42, since: "2026-12-01T00:00:00.000Z", crashed: false };

  test.each([
    ["a fresh, good loop", running, state("2026-12-01T11:59:00.000Z"), true, undefined, "pid 42, last sync up-to-date"],
    ["a last sync an hour old", running, state("2026-12-01T11:00:00.000Z"), false, "warning", "its last sync is from"],
    [
      "three failed polls",
      running,
      state("2026-12-01T11:59:00.000Z", 3, "unreachable"),
      false,
      "warning",
      "failing for 3 polls: unreachable: boom",
    ],
    [
      "one failed poll (a blip)",
      running,
      state("2026-12-01T11:59:00.000Z", 1, "unreachable"),
      true,
      undefined,
      "last sync",
    ],
    [
      "a crashed loop",
      { running: false, pid: 42, since: "x", crashed: true },
      state("2026-12-01T11:59:00.000Z"),
      false,
      undefined,
      "crashed: pid 42 is gone",
    ],
    [
      "a loop that is not running",
      { running: false, pid: null, since: null, crashed: false },
      state("2026-12-01T11:59:00.000Z"),
      false,
      undefined,
      "not running for /srv/shop",
    ],
  ] as const)("%s", (_name, loop, nodeState, ok, severity, detail) => {
    const check = judgeLoop(registration, loop, nodeState, now);
    expect(check.ok).toBe(ok);
    expect(check.severity).toBe(severity);
    expect(check.detail).toContain(detail);
  });
});
