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

/** The text of a `## title` section, up to the next one. */
const section = (title: string) => {
  const start = readme.indexOf(`\n## ${title}\n`);
  return readme.slice(start, readme.indexOf("\n## ", start + 1));
};

test("the quick start says the curl line needs a release key, and gives the three commands of a release of one's own (issue 24)", () => {
  const quick = section("Quick start on a server");
  const pkg = JSON.parse(readFileSync(join(import.meta.dir, "..", "..", "package.json"), "utf8"));
  if (pkg.config.minisignPublicKey === "") expect(quick).toContain("`config.minisignPublicKey` is empty");
  const commands =
    quick
      .match(/```sh\n(minisign -G[\s\S]*?)```/)?.[1]
      ?.trim()
      .split("\n") ?? [];
  expect(commands).toHaveLength(3);
  expect(commands[0]).toStartWith("minisign -G ");
  expect(commands[0]).toContain("config.minisignPublicKey");
  // The names the commands use are the build's and the installer's own.
  expect(commands[1]).toContain("PROTOCOL_MINISIGN_KEY=");
  expect(commands[1]).toContain("npm run build:all");
  expect(pkg.scripts["build:all"]).toBeDefined();
  expect(readFileSync(join(import.meta.dir, "..", "..", "scripts", "build.ts"), "utf8")).toContain(
    "process.env.PROTOCOL_MINISIGN_KEY",
  );
  for (const file of ["SHA256SUMS", "SHA256SUMS.minisig", "install.sh", "VERSION"])
    expect(commands[2]).toContain(`dist/${file}`);
  expect(readFileSync(join(import.meta.dir, "..", "..", "install.sh"), "utf8")).toContain("has no release key");
});

test("the migration table: stop --down leaves the config links, so the old stop is stop --down then config:unlink", () => {
  const row = section("Coming from the PHP protocol")
    .split("\n")
    .find((line) => line.startsWith("| `stop`"));
  expect(row).toContain("the config links stay");
  expect(row).toContain("`stop --down` (containers down), then `config:unlink`");
});
