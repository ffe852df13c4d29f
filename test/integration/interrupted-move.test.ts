/**
 * Issue 10, "a move is journaled": a sync killed while it moves the working copy is finished by the
 * next one, and files that match neither version are kept. Real git; kill -9 for real.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliArgv, eventually, Fixture, git, sh } from "../helpers/fixture.ts";
import { gitProcessesIn, gone } from "../helpers/processes.ts";

let fx: Fixture;
beforeEach(async () => {
  fx = await Fixture.create({
    files: { "keep.txt": "A\n", "change.txt": "A\n", "edit.txt": "A\n", "gone.txt": "A\n" },
  });
});
afterEach(async () => fx[Symbol.asyncDispose]());

const journal = () => join(fx.node, ".git", "protocol", "move.json");

/** Start git:pull in the background (env added), so the test can kill it. */
function spawnPull(env: Record<string, string> = {}) {
  return Bun.spawn([...cliArgv(), "git:pull", "--dir", fx.node], {
    env: { ...process.env, ...fx.env, ...env },
    stdout: "ignore",
    stderr: "pipe",
  });
}

describe("a move is journaled", () => {
  test("killed after the journal, the working copy half moved: the next sync finishes it and keeps what matches neither version", async () => {
    const a = await fx.head();
    for (const [path, text] of Object.entries({ "change.txt": "B\n", "edit.txt": "B\n", "new.txt": "B\n" }))
      writeFileSync(join(fx.seed, path), text);
    rmSync(join(fx.seed, "gone.txt"));
    await git(fx.seed, "add", "--all");
    await git(fx.seed, "commit", "--quiet", "-m", "B");
    await git(fx.seed, "push", "--quiet", "origin", "HEAD:main");
    const tip = await fx.head(fx.seed);

    const pull = spawnPull({ PROTOCOL_TEST_PAUSE_AT: "move-journaled" });
    expect(await eventually(() => existsSync(journal()), 15_000)).toBe(true);
    pull.kill("SIGKILL");
    await gone(pull.pid);
    // What a fast-forward killed half way leaves: some files already new, a new file, a deleted one,
    // the index untouched, git's own index.lock; and a file changed by someone that is neither version.
    writeFileSync(join(fx.node, "change.txt"), "B\n");
    writeFileSync(join(fx.node, "new.txt"), "B\n");
    rmSync(join(fx.node, "gone.txt"));
    writeFileSync(join(fx.node, "edit.txt"), "edited on the node after the crash\n");
    writeFileSync(join(fx.node, ".git", "index.lock"), "");
    expect(await fx.head()).toBe(a);
    // Before any pass recovers it, status already says the move was cut short.
    const before = JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);
    expect(before.move).toMatchObject({ from: a, to: tip, cutShort: true });
    expect((await fx.cli(["status", "--dir", fx.node])).stdout).toContain("was cut short (pid");

    const run = await fx.cli(["git:pull", "--dir", fx.node, "--json"]);
    expect(run.exitCode).toBe(0);
    expect(await fx.head()).toBe(tip);
    expect(await git(fx.node, "status", "--porcelain")).toBe("");
    expect(existsSync(journal())).toBe(false);
    expect(readFileSync(join(fx.node, "edit.txt"), "utf8")).toBe("B\n");
    const status = JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);
    expect(status.lastRecovery).toMatchObject({ from: a, to: tip, keptPaths: ["edit.txt"] });
    expect(readFileSync(join(status.lastRecovery.kept, "edit.txt"), "utf8")).toBe(
      "edited on the node after the crash\n",
    );
    expect(run.stderr).toContain("recovered the interrupted move");
    const human = await fx.cli(["status", "--dir", fx.node]);
    expect(human.stdout).toMatch(/recovered\s+a move to \w+ cut short/);
  });

  test("kill -9 of the loop and of git in the middle of a large fast-forward: the next sync converges, nothing dirty", async () => {
    // 3,000 files sharing one blob, committed through the index alone: writing 3,000 objects in the
    // seed would cost seconds, and the node's checkout still writes 3,000 files (the window to kill in).
    const blob = (await sh(["git", "hash-object", "-w", "--stdin"], { cwd: fx.seed, input: "same\n" })).stdout.trim();
    const entries = Array.from({ length: 3_000 }, (_, i) => `100644 ${blob}\tmany/${i % 100}/${i}.txt`).join("\n");
    await sh(["git", "update-index", "--index-info"], { cwd: fx.seed, input: `${entries}\n` });
    await git(fx.seed, "commit", "--quiet", "-m", "3,000 files");
    await git(fx.seed, "push", "--quiet", "origin", "HEAD:main");
    const big = await fx.head(fx.seed);
    const pull = spawnPull();
    // Wait for git's checkout of the new files, then kill the sync and the git doing the move.
    let killed = false;
    for (let i = 0; i < 5000 && !killed; i++) {
      const merging = existsSync(join(fx.node, "many")) ? gitProcessesIn(fx.node, ["merge"]) : [];
      if (merging.length > 0) {
        for (const pid of merging) process.kill(pid, "SIGKILL");
        pull.kill("SIGKILL");
        killed = true;
      } else await Bun.sleep(2);
    }
    expect(killed).toBe(true);
    await gone(pull.pid);
    expect(existsSync(journal())).toBe(true);

    const run = await fx.cli(["git:pull", "--dir", fx.node, "--json"]);
    expect(run.exitCode).toBe(0);
    expect(await fx.head()).toBe(big);
    expect(await git(fx.node, "status", "--porcelain")).toBe("");
    expect(existsSync(journal())).toBe(false);
  }, 60_000);

  test("SIGTERM while a poll is on its way to a move: the poll ends without moving, the loop exits cleanly", async () => {
    const before = await fx.head();
    const loop = Bun.spawn([...cliArgv(), "git:slave", "--foreground", "--dir", fx.node, "--interval", "1"], {
      env: { ...process.env, ...fx.env, PROTOCOL_TEST_PAUSE_AT: "before-move:2000" },
      stdout: "ignore",
      stderr: "pipe",
    });
    let stderr = "";
    const reading = (async () => {
      for await (const chunk of loop.stderr) stderr += new TextDecoder().decode(chunk);
    })();
    await fx.push({ "app.txt": "v2\n" });
    expect(await eventually(() => stderr.includes("paused at before-move"), 15_000)).toBe(true);
    loop.kill("SIGTERM");
    expect(await loop.exited).toBe(0);
    await reading;
    expect(await fx.head()).toBe(before);
    expect(existsSync(journal())).toBe(false);
    expect(stderr).toContain("SIGTERM received");
    const status = JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);
    expect(status.lastSync.error).toContain("the working copy was not moved");
  });
});
