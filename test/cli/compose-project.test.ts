/**
 * Issue 13: separate checkouts stay separate. Two checkouts of one app with the same basename
 * (/srv/shop, /srv2/shop) get different compose projects; docker.project overrides; a checkout
 * an older protocol deployed keeps the bare name its containers run under. (Fake docker.)
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultProject } from "../../src/lib/app/project.ts";
import { appPaths } from "../../src/lib/core/paths.ts";
import { Fixture, git } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create({ files: { "docker-compose.yml": "services: {}\n" } })));
afterEach(async () => fx[Symbol.asyncDispose]());

const projectsUsed = () =>
  fx
    .dockerCalls()
    .filter((argv) => argv[0] === "compose" && argv[1] === "--project-name" && argv.includes("up"))
    .map((argv) => argv[2]);

async function checkout(parent: string): Promise<string> {
  const dir = join(fx.root, parent, "shop");
  mkdirSync(join(fx.root, parent), { recursive: true });
  await git(fx.root, "clone", "--quiet", fx.remote, dir);
  return dir;
}

describe("compose project names", () => {
  test("two checkouts with the same basename deploy as two projects; status shows each", async () => {
    const one = await checkout("srv");
    const two = await checkout("srv2");
    for (const dir of [one, two])
      expect((await fx.cli(["git:pull", "--dir", dir], { fakeDocker: true })).exitCode).toBe(0);
    const [a, b] = projectsUsed();
    expect(a).toBe(defaultProject("shop", one));
    expect(b).toBe(defaultProject("shop", two));
    expect(a).not.toBe(b);
    const status = JSON.parse((await fx.cli(["status", "--dir", one, "--json"], { fakeDocker: true })).stdout);
    expect(status.project).toBe(a);
    expect((await fx.cli(["status", "--dir", two], { fakeDocker: true })).stdout).toMatch(
      new RegExp(`project\\s+${b}`),
    );
  });

  test("docker.project overrides, and must follow compose's rule", async () => {
    writeFileSync(join(fx.node, "protocol.json"), JSON.stringify({ docker: { project: "shop_blue" } }));
    expect((await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true })).exitCode).toBe(0);
    expect(projectsUsed()).toEqual(["shop_blue"]);
    writeFileSync(join(fx.node, "protocol.json"), JSON.stringify({ docker: { project: "Shop Blue" } }));
    const bad = await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true });
    expect(bad.exitCode).toBe(3);
    expect(bad.stderr).toContain("docker.project: must be lower-case letters, digits");
  });

  test("a checkout an older protocol deployed keeps the bare name; the project used is kept from then on", async () => {
    // What an older protocol left: a deployed commit and no recorded project.
    const paths = appPaths(fx.node, fx.env.PROTOCOL_HOME);
    mkdirSync(paths.root, { recursive: true });
    writeFileSync(paths.status, JSON.stringify({ deployedCommit: "0".repeat(40) }));
    await fx.push({ "app.txt": "v2\n" });
    expect((await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true })).exitCode).toBe(0);
    expect(projectsUsed()).toEqual(["node"]);
    // Renaming the app later does not move its containers to a new project.
    await fx.push({ "protocol.json": JSON.stringify({ name: "renamed" }) });
    expect((await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true })).exitCode).toBe(0);
    expect(projectsUsed()).toEqual(["node", "node"]);
  });
});
