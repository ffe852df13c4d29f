/** Issue 13: the README in a newcomer's order, opening with the two commands. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const readme = readFileSync(join(import.meta.dir, "..", "..", "README.md"), "utf8");

test("it opens with the two commands a newcomer runs", () => {
  expect(readme).toStartWith("# protocol\n\n```\nnpm install && npm run demo\nnpm install && npm test\n```\n");
});

test("its sections come in a newcomer's order: what, quick start, migration, commands, install, reference, benchmarks", () => {
  const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  const at = (title: string) => headings.indexOf(title);
  const order = [
    "What protocol is",
    "Quick start on a server",
    "Coming from the PHP protocol",
    "Commands",
    "Install",
    "protocol.json",
    "Exit codes",
    "State dir",
    "Architecture",
    "Benchmarks",
  ];
  for (const title of order) expect(at(title), title).toBeGreaterThanOrEqual(0);
  expect(order.map(at)).toEqual([...order.map(at)].sort((a, b) => a - b));
});
