/**
 * Issue 29, item 1, for deploy hooks: a hook's timeout holds for everything the hook started, "SIGTERM
 * to its group, SIGKILL 5 s later", whoever is left when protocol itself is done or is stopped. Real
 * sh and sleep; the docker steps go to the fake docker.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { eventually, Fixture } from "../helpers/fixture.ts";
import { killProcessesWithArgv, processesWithArgv } from "../helpers/processes.ts";

let fx: Fixture;
const markers = [
  ["sleep", "1018.5"],
  ["sleep", "1019.5"],
  ["sleep", "1020.5"],
];
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => {
  await fx[Symbol.asyncDispose]();
  for (const marker of markers) killProcessesWithArgv(marker);
});

/** protocol.json with one beforeMove hook. */
const withHook = (script: string, timeout: number) => ({
  "protocol.json": JSON.stringify({
    deploy: { settleSeconds: 0, hooks: { beforeMove: [{ run: ["sh", "-c", script], timeout }] } },
  }),
  "docker-compose.yml": "services:\n  app:\n    image: busybox\n",
});

describe("a hook's timeout kills its whole group", () => {
  test("a one-shot git:pull: what the hook left that ignores SIGTERM is killed too, though protocol exits first", async () => {
    const before = await fx.head();
    // The hook's own process dies of the SIGTERM; the child it left ignores it.
    await fx.push(withHook("(trap '' TERM; exec sleep 1018.5) & exec sleep 1019.5", 1));
    const run = await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true });
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain("killed after 1s (its timeout), with its process group");
    expect(await fx.head()).toBe(before);
    // "SIGKILL 5 s later for what ignored it": well past that, nothing of the hook is left.
    expect(await eventually(() => processesWithArgv(["sleep", "1018.5"]).length === 0, 10_000)).toBe(true);
  }, 60_000);

  test("git:slave:stop that has to kill the loop during a hook leaves nothing of the hook running", async () => {
    // The loop finishes its step on SIGTERM; stop kills it after PROTOCOL_STOP_TIMEOUT, while the hook (timeout 120 s) runs.
    await fx.push(withHook("echo hook-started; exec sleep 1020.5", 120));
    expect((await fx.cli(["git:slave", "--dir", fx.node, "--interval", "1"], { fakeDocker: true })).exitCode).toBe(0);
    expect(await eventually(() => processesWithArgv(["sleep", "1020.5"]).length === 1, 20_000)).toBe(true);
    const stop = await fx.cli(["git:slave:stop", "--dir", fx.node], { env: { PROTOCOL_STOP_TIMEOUT: "2" } });
    expect(stop.exitCode).toBe(0);
    expect(stop.stderr).toContain("killing it");
    // Its timeout can no longer hold (the loop that kept it is gone): the hook must not outlive the loop,
    // else the next start runs the same hook a second time beside it.
    expect(await eventually(() => processesWithArgv(["sleep", "1020.5"]).length === 0, 10_000)).toBe(true);
  }, 60_000);
});
