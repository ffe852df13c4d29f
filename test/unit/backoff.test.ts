import { describe, expect, test } from "bun:test";
import { MAX_BACKOFF_MS, nextDelayMs } from "../../src/lib/core/backoff.ts";

const fixed = (value: number) => () => value;
/** random() returns values in [0, 1): 0 is the low end of the jitter, just below 1 the high end. */
const LOW = fixed(0);
const MID = fixed(0.5);
const HIGH = fixed(0.999999);

describe("nextDelayMs", () => {
  test.each([
    ["the interval itself at the middle of the jitter", 10, MID, 10_000],
    ["80 % of the interval at the low end", 10, LOW, 8_000],
    ["just under 120 % of the interval at the high end", 10, HIGH, 12_000],
    ["a rounded whole number of ms", 1, fixed(0.123456), 849],
  ])("waits %s when the last poll succeeded", (_name, interval, random, expected) => {
    expect(nextDelayMs(interval, 0, random)).toBe(expected);
  });

  test("keeps the jitter within ±20 % for any random value", () => {
    for (let i = 0; i <= 100; i++) {
      const delay = nextDelayMs(30, 0, fixed(Math.min(i / 100, 0.999999)));
      expect(delay).toBeGreaterThanOrEqual(24_000);
      expect(delay).toBeLessThanOrEqual(36_000);
    }
  });

  test("spreads nodes apart: different random values give different waits", () => {
    expect(nextDelayMs(10, 0, LOW)).not.toBe(nextDelayMs(10, 0, HIGH));
  });

  test("treats a negative failure count as no failures", () => {
    expect(nextDelayMs(10, -1, MID)).toBe(10_000);
  });

  test.each([
    [1, 20_000],
    [2, 40_000],
    [3, 80_000],
    [4, 160_000],
    [5, 300_000],
    [6, 300_000],
    [50, 300_000],
  ])("doubles the wait per consecutive failure, up to 5 minutes: %i failures wait %i ms", (failures, expected) => {
    expect(nextDelayMs(10, failures, MID)).toBe(expected);
  });

  test("applies the jitter to the backed-off wait too", () => {
    expect(nextDelayMs(10, 2, LOW)).toBe(32_000);
    expect(nextDelayMs(10, 2, HIGH)).toBe(48_000);
  });

  test.each([
    ["low", LOW, 0.8],
    ["high", HIGH, 1.2],
  ])("caps the wait at 5 minutes times the %s end of the jitter", (_name, random, factor) => {
    expect(nextDelayMs(10, 100, random)).toBe(Math.round(MAX_BACKOFF_MS * factor));
  });

  test("caps at the interval, not 5 minutes, when the interval is longer", () => {
    expect(nextDelayMs(600, 0, MID)).toBe(600_000);
    expect(nextDelayMs(600, 1, MID)).toBe(600_000);
    expect(nextDelayMs(600, 20, MID)).toBe(600_000);
  });

  test("uses Math.random when no random is injected, staying within the jitter", () => {
    for (let i = 0; i < 50; i++) {
      const delay = nextDelayMs(10, 0);
      expect(delay).toBeGreaterThanOrEqual(8_000);
      expect(delay).toBeLessThanOrEqual(12_000);
    }
  });

  test("uses a 5-minute MAX_BACKOFF_MS cap", () => {
    expect(MAX_BACKOFF_MS).toBe(300_000);
  });
});
