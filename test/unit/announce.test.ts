import { describe, expect, test } from "bun:test";
import { newsOf, REPEAT_MS } from "../../src/lib/core/announce.ts";
import { withoutResult } from "../../src/lib/node/sync-announce.ts";

const at = "2026-12-01T10:00:00.000Z";
const t0 = Date.parse(at);

describe("newsOf: what a loop's log says of a poll", () => {
  test.each([
    ["the first poll of a loop", null, { result: "up-to-date", error: null, failing: false }, t0, "change"],
    [
      "a new result",
      { result: "up-to-date", error: null, at },
      { result: "dirty", error: "x", failing: true },
      t0,
      "change",
    ],
    [
      "the same result with another error",
      { result: "error", error: "a", at },
      { result: "error", error: "b", failing: true },
      t0,
      "change",
    ],
    [
      "the same failure a minute on",
      { result: "error", error: "a", at },
      { result: "error", error: "a", failing: true },
      t0 + 60_000,
      null,
    ],
    [
      "the same failure an hour on",
      { result: "error", error: "a", at },
      { result: "error", error: "a", failing: true },
      t0 + REPEAT_MS,
      "repeat",
    ],
    [
      "the same good outcome a day on",
      { result: "up-to-date", error: null, at },
      { result: "up-to-date", error: null, failing: false },
      t0 + 86_400_000,
      null,
    ],
  ] as const)("%s", (_name, last, current, now, expected) => {
    expect(newsOf(last, current, now)).toBe(expected);
  });
});

describe("the loop's line for a failure", () => {
  test("does not say the result twice: sync disk-full: disk full: … reads sync disk-full: …", () => {
    expect(withoutResult("disk-full", "disk full: fetching abc needs more")).toBe("fetching abc needs more");
    expect(withoutResult("error", "docker compose up failed")).toBe("docker compose up failed");
    expect(withoutResult("unreachable", "remote origin is unreachable: x")).toBe("remote origin is unreachable: x");
  });
});
