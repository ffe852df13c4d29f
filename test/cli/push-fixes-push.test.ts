/**
 * Issue 29, item 7: a bad commit can never strand a node from its own fix. What governs taking a
 * commit (its hooks, its rollout) is the commit's own protocol.json, and the loop notices a
 * protocol.json changed by anyone at its next poll (a stat, not a read).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cliArgv, eventually, FAKE_DOCKER_DIR, Fixture } from "../helpers/fixture.ts";
import { killProcessesWithArgv } from "../helpers/processes.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

async function status(): Promise<any> {
  const run = await fx.cli(["status", "--dir", fx.node, "--json"]);
  return JSON.parse(run.stdout);
}

const withBeforeMove = (code: number, note: string) => ({
  "protocol.json": JSON.stringify({ deploy: { hooks: { beforeMove: [{ run: ["sh", "-c", `exit ${code}`] }] } } }),
  "docker-compose.yml": "services:\n  app:\n    image: busybox\n",
  "note.txt": note,
});

describe("a push can fix what a push broke", () => {
  test("a commit's beforeMove hook is its own: one that fails keeps it out, the commit that fixes the hook deploys", async () => {
    const before = await fx.head();
    await fx.push(withBeforeMove(1, "broken hook\n"));
    const refused = await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain("hook beforeMove[1]");
    expect(await fx.head()).toBe(before);

    const fixed = await fx.push(withBeforeMove(0, "fixed hook\n"));
    const deployed = await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true });
    expect(deployed.exitCode).toBe(0);
    expect(await fx.head()).toBe(fixed);
  }, 60_000);

  test("the loop follows a protocol.json a git:pull by hand brought, at its next poll", async () => {
    expect((await fx.cli(["git:slave", "--dir", fx.node, "--interval", "3600"])).exitCode).toBe(0);
    expect(await eventually(async () => (await status()).deployedCommit === (await fx.head()), 10_000)).toBe(true);
    const pushed = await fx.push({ "protocol.json": JSON.stringify({ git: { remotename: "upstream" } }) });
    expect((await fx.cli(["git:pull", "--dir", fx.node])).exitCode).toBe(0);
    expect(await fx.head()).toBe(pushed);
    // The loop sleeps for an hour: `sync` wakes it. It asks for the remote the new protocol.json names.
    expect((await fx.cli(["sync", "--dir", fx.node])).exitCode).toBe(0);
    expect(await eventually(async () => ((await status()).lastSync?.error ?? "").includes("upstream"), 10_000)).toBe(
      true,
    );
    await fx.cli(["stop", "--dir", fx.node]);
  }, 60_000);
});

describe("deploy:hooks shows the hooks the next deploy runs", () => {
  test("after a pull refused by the incoming commit's beforeMove, deploy:hooks lists that step, not the checked-out one's", async () => {
    const before = await fx.head();
    await fx.push(withBeforeMove(1, "broken hook\n"));
    const refused = await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true });
    expect(refused.stderr).toContain("hook beforeMove[1]");
    expect(await fx.head()).toBe(before);
    // The operator asks what the next deploy runs: the incoming commit's beforeMove is what refused it.
    const shown = await fx.cli(["deploy:hooks", "--dry-run", "--dir", fx.node]);
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/beforeMove\s+1\s+host\s+sh -c exit 1/);
  }, 60_000);
});

describe("the incoming commit's beforeMove runs that commit's scripts", () => {
  test("a commit that adds a script and the beforeMove hook that runs it deploys, the hook running its own script", async () => {
    const marks = `${fx.root}/marks`;
    const pushed = await fx.push({
      "protocol.json": JSON.stringify({ deploy: { hooks: { beforeMove: [{ run: ["sh", "./drain.sh"] }] } } }),
      "drain.sh": `echo drained-by-new-script >> "${marks}"\n`,
      "docker-compose.yml": "services:\n  app:\n    image: busybox\n",
    });
    const run = await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await fx.head()).toBe(pushed);
    expect(await Bun.file(marks).text()).toBe("drained-by-new-script\n");
  }, 60_000);

  test("a push that fixes only the drain script (protocol.json unchanged) deploys: the step runs the script as that commit has it", async () => {
    const before = await fx.head();
    const drain = (code: number) => ({
      "protocol.json": JSON.stringify({ deploy: { hooks: { beforeMove: [{ run: ["sh", "./drain.sh"] }] } } }),
      "drain.sh": `exit ${code}\n`,
      "docker-compose.yml": "services:\n  app:\n    image: busybox\n",
    });
    await fx.push(drain(5), "a drain that fails");
    const refused = await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true });
    expect(refused.stderr).toContain("hook beforeMove[1] (sh ./drain.sh) failed: exit 5");
    expect(await fx.head()).toBe(before);
    const fixed = await fx.push({ "drain.sh": "exit 0\n" }, "the drain fixed");
    const deployed = await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true });
    expect(deployed.exitCode, deployed.stderr).toBe(0);
    expect(deployed.stderr).toContain("its script as the incoming commit has it");
    expect(await fx.head()).toBe(fixed);
  }, 60_000);

  test("kill -9 while the incoming commit's script runs: the copy it left in the state dir is gone after the next deploy", async () => {
    const block = `${fx.root}/block`;
    const started = `${fx.root}/started`;
    await Bun.write(block, "");
    const pushed = await fx.push({
      "protocol.json": JSON.stringify({ deploy: { hooks: { beforeMove: [{ run: ["sh", "./drain.sh"] }] } } }),
      "drain.sh": `if [ -e "${block}" ]; then touch "${started}"; exec sleep 301.5; fi\n`,
      "docker-compose.yml": "services:\n  app:\n    image: busybox\n",
    });
    const pull = Bun.spawn([...cliArgv(), "git:pull", "--dir", fx.node], {
      cwd: fx.root,
      env: { ...fx.env, PATH: `${FAKE_DOCKER_DIR}:${process.env.PATH}` },
      stdout: "ignore",
      stderr: "ignore",
    });
    try {
      expect(await eventually(() => existsSync(started), 20_000)).toBe(true);
      pull.kill("SIGKILL");
      await pull.exited;
      const stateDir = () => {
        const apps = join(fx.env.PROTOCOL_HOME ?? "", "apps");
        const [app] = readdirSync(apps);
        return join(apps, app ?? "");
      };
      const left = () => readdirSync(stateDir()).filter((name) => name.startsWith("incoming-"));
      expect(left()).toHaveLength(1);
      rmSync(block);
      const again = await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true });
      expect(again.exitCode, again.stderr).toBe(0);
      expect(await fx.head()).toBe(pushed);
      expect(left()).toEqual([]);
    } finally {
      pull.kill("SIGKILL");
      killProcessesWithArgv(["sleep", "301.5"]);
    }
  }, 60_000);
});
