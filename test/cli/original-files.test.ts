/**
 * Issue 13: a node whose app still carries the original PHP tool's protocol.json syncs: one warning
 * for the keys protocol does not use, then the same as any other node.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Fixture } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

const fixture = (name: string) => readFileSync(join(import.meta.dir, "..", "fixtures", "original", name), "utf8");

describe("the original tool's protocol.json on a node", () => {
  test.each(["readme-sample.json", "latest-release.json"])("%s: the node syncs and deploys", async (name) => {
    const pushed = await fx.push({ "protocol.json": fixture(name) });
    const run = await fx.cli(["git:pull", "--dir", fx.node, "--json"]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).result).toBe("deployed");
    expect(await fx.head()).toBe(pushed);
    // And it keeps following with that file in place.
    const next = await fx.push({ "b.txt": "b\n" });
    const again = await fx.cli(["git:pull", "--dir", fx.node, "--json"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await fx.head()).toBe(next);
  });

  test("the keys of later versions of the original get one warning naming them, not an error", async () => {
    await fx.push({ "protocol.json": fixture("latest-release.json") });
    expect((await fx.cli(["git:pull", "--dir", fx.node])).exitCode).toBe(0);
    const run = await fx.cli(["status", "--dir", fx.node]);
    expect(run.exitCode).toBe(0);
    const warnings = run.stderr.split("\n").filter((line) => line.includes("keys protocol does not use"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      "ignored: configuration.environments, deployment, docker.container_name, project_type",
    );
  });
});
