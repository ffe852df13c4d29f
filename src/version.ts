import pkg from "../package.json" with { type: "json" };

// Replaced at build time by scripts/build.ts (Bun.build `define`).
declare const PROTOCOL_VERSION: string | undefined;

export const VERSION: string = typeof PROTOCOL_VERSION === "string" ? PROTOCOL_VERSION : `${pkg.version}-dev`;

/** True inside a `bun build --compile` executable, whose modules live under /$bunfs. */
export function isCompiled(): boolean {
  return Bun.main.includes("$bunfs");
}
