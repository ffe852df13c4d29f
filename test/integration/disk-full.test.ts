/**
 * Issue 10, "room before the move": a working copy or a state dir on a small tmpfs (mounted for the
 * test, so it needs root; CI runs as root). Real git; the file systems fill up for real.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Fixture, git, sh } from "../helpers/fixture.ts";
import { describeNeeding } from "../helpers/needs.ts";
import { mountTmpfs, TMPFS_NEEDS, unmountTmpfs } from "../helpers/tmpfs.ts";

const describeAsRoot = describeNeeding(TMPFS_NEEDS);

let fx: Fixture;
beforeEach(async () => {
  fx = await Fixture.create();
});
afterEach(async () => {
  await unmountTmpfs();
  await fx[Symbol.asyncDispose]();
});

const tmpfs = (name: string, size: string) => mountTmpfs(join(fx.root, name), size);

describeAsRoot("room before the move", () => {
  test("a commit that does not fit the working copy's disk is refused before anything moves, then applied once there is room", async () => {
    const small = await tmpfs("small", "6m");
    const node = join(small, "node");
    await git(fx.root, "clone", "--quiet", fx.remote, node);
    const before = await git(node, "rev-parse", "HEAD");
    // Compresses to almost nothing in the pack, takes 8 MB once checked out.
    const pushed = await fx.push({ "big-1.txt": "x".repeat(4_000_000), "big-2.txt": "y".repeat(4_000_000) }, "big");

    const refused = await fx.cli(["git:pull", "--dir", node, "--json"]);
    expect(refused.exitCode).not.toBe(0);
    const outcome = JSON.parse(refused.stdout);
    expect(outcome.result).toBe("error");
    expect(outcome.error).toMatch(
      new RegExp(`^not enough disk space: need 8\\.\\d MB at ${node}, have \\d+\\.\\d MB$`),
    );
    expect(await git(node, "rev-parse", "HEAD")).toBe(before);
    expect(await git(node, "status", "--porcelain")).toBe("");
    expect(existsSync(join(node, "big-1.txt"))).toBe(false);
    expect(existsSync(join(node, ".git", "protocol", "move.json"))).toBe(false);

    await sh(["mount", "-o", "remount,size=32m", small]);
    const applied = await fx.cli(["git:pull", "--dir", node, "--json"]);
    expect(applied.exitCode).toBe(0);
    expect(await git(node, "rev-parse", "HEAD")).toBe(pushed);
    expect(await git(node, "status", "--porcelain")).toBe("");
  });

  test("a full state dir is a one-line disk error (not a bug), and status says the last sync is not current", async () => {
    const state = await tmpfs("state", "256k");
    const env = { PROTOCOL_HOME: state };
    expect((await fx.cli(["git:pull", "--dir", fx.node], { env })).exitCode).toBe(0);
    // Fill it up.
    await sh(["dd", "if=/dev/zero", `of=${join(state, "filler")}`, "bs=4k", "count=1000"]);
    await fx.push({ "app.txt": "v2\n" });

    const run = await fx.cli(["git:pull", "--dir", fx.node], { env });
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toMatch(/^error: no space left on the file system of \S+/m);
    expect(run.stderr).not.toContain("bug");

    const status = await fx.cli(["status", "--dir", fx.node, "--json"], { env });
    expect(status.exitCode).toBe(0);
    expect(JSON.parse(status.stdout).stateDisk).toMatchObject({ full: true });
    const human = await fx.cli(["status", "--dir", fx.node], { env });
    expect(human.stdout).toContain("not current: the state dir is full");
  });

  test("a disk that fills up while a move is cut short: the move is finished once there is room again, never left half done", async () => {
    const small = await tmpfs("fills", "16m");
    const node = join(small, "node");
    await git(fx.root, "clone", "--quiet", fx.remote, node);
    const pushed = await fx.push({ "big-1.txt": "x".repeat(3_000_000), "big-2.txt": "y".repeat(3_000_000) }, "big");
    const cli = join(import.meta.dir, "../../src/cli.ts");
    const pull = Bun.spawn([process.execPath, cli, "git:pull", "--dir", node], {
      env: { ...process.env, ...fx.env, PROTOCOL_TEST_PAUSE_AT: "move-journaled" },
      stdout: "ignore",
      stderr: "ignore",
    });
    const journal = join(node, ".git", "protocol", "move.json");
    for (let i = 0; i < 300 && !existsSync(journal); i++) await Bun.sleep(50);
    pull.kill("SIGKILL");
    await pull.exited;
    // Half the move written, then the disk is full.
    writeFileSync(join(node, "big-1.txt"), "x".repeat(3_000_000));
    await sh(["dd", "if=/dev/zero", `of=${join(small, "filler")}`, "bs=64k", "count=1000"]);

    const stuck = await fx.cli(["git:pull", "--dir", node, "--json"]);
    expect(stuck.exitCode).not.toBe(0);
    expect(existsSync(journal)).toBe(true);

    rmSync(join(small, "filler"));
    const run = await fx.cli(["git:pull", "--dir", node, "--json"]);
    expect(run.exitCode).toBe(0);
    expect(await git(node, "rev-parse", "HEAD")).toBe(pushed);
    expect(await git(node, "status", "--porcelain")).toBe("");
    expect(existsSync(journal)).toBe(false);
  });
});
