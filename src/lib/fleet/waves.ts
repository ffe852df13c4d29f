/** Which wave a node is in, and when it deploys a commit it saw: pure, the same on every node. */
import type { ProtocolJson } from "../schema/protocol-json.ts";

export type Rollout = NonNullable<ProtocolJson["rollout"]>;

export const DEFAULT_WAVE_SECONDS = 300;
export const DEFAULT_STALE_SECONDS = 600;
/** A wave's nodes spread their deploys (and requests) over this share of the pause, at most 30 s. */
const SPREAD_SHARE = 0.25;
const MAX_SPREAD_MS = 30_000;

/** A node's place in [0, 100): the first 32 bits of sha256(id), so every node computes the same split. */
export function nodePercentile(id: string): number {
  const digest = new Bun.CryptoHasher("sha256").update(id).digest();
  return (digest.readUInt32BE(0) / 2 ** 32) * 100;
}

export interface WavePlace {
  /** 1 for the first wave. */
  wave: number;
  waves: number;
  /** Where the node sits inside its wave, in [0, 1): spreads the wave's deploys. Canaries sit at 0. */
  within: number;
}

export function wavePlace(id: string, rollout: Rollout): WavePlace {
  const waves = rollout.waves ?? [100];
  if (rollout.canaries?.includes(id)) return { wave: 1, waves: waves.length, within: 0 };
  const p = nodePercentile(id);
  const index = waves.findIndex((limit) => p < limit);
  const wave = index < 0 ? waves.length - 1 : index;
  const low = wave === 0 ? 0 : waves[wave - 1]!;
  const high = waves[wave]!;
  return { wave: wave + 1, waves: waves.length, within: (p - low) / (high - low) };
}

export function waveSeconds(rollout: Rollout): number {
  return rollout.waveSeconds ?? DEFAULT_WAVE_SECONDS;
}

/** How far a node's deploys (and pushes) are spread inside its wave: a share of the pause, ≤ 30 s. */
export function spreadMs(place: WavePlace, rollout: Rollout): number {
  return Math.round(place.within * Math.min(MAX_SPREAD_MS, waveSeconds(rollout) * 1000 * SPREAD_SHARE));
}

/** When a node in `place` deploys a commit it first saw at `firstSeenMs`. */
export function dueAtMs(firstSeenMs: number, place: WavePlace, rollout: Rollout): number {
  return firstSeenMs + (place.wave - 1) * waveSeconds(rollout) * 1000 + (place.wave > 1 ? spreadMs(place, rollout) : 0);
}

/** How often a held node reads the fleet record again: at the waves' pace, at most every 30 s, never faster than it polls. */
export function recheckMs(rollout: Rollout, intervalSeconds: number): number {
  return Math.max(intervalSeconds * 1000, Math.min(30_000, waveSeconds(rollout) * 1000));
}
