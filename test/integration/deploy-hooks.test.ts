/**
 * Issue 18, deploy hooks: real host commands (scripts in the app repo that write marker files and
 * read their environment) and service steps through the fake docker's exec, around in-process
 * syncs. Each failure rule of the README's table has its test.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadApp } from "../../src/lib/app/app.ts";
import { readDeploys, readNodeState, updateNodeState } from "../../src/lib/app/state.ts";
import { runPass } from "../../src/lib/node/pass.ts";
import { FAKE_DOCKER_DIR, Fixture } from "../helpers/fixture.ts";
import { gone } from "../helpers/processes.ts";

let fx: Fixture;
let marks: string;
const saved = { ...process.env };

/** A hook script: appends "<name> <PROTOCOL_* facts> <SECRET>" to the marks file ($3, else $MARKS), then exits with `code`. */
const SCRIPT = `#!/bin/sh
echo "$1 from=$PROTOCOL_FROM to=$PROTOCOL_TO reason=$PROTOCOL_REASON node=$PROTOCOL_NODE_ID dir=$PROTOCOL_DIR secret=\${APP_SECRET:-none}" >> "\${3:-$MARKS}"
echo "output of $1"
exit "\${2:-0}"
`;

beforeEach(async () => {
  fx = await Fixture.create();
  marks = join(fx.root, "marks");
  Object.assign(process.env, {
    FAKE_DOCKER_LOG: fx.env.FAKE_DOCKER_LOG,
    PATH: `${FAKE_DOCKER_DIR}:${saved.PATH}`,
    MARKS: marks,
    PROTOCOL_NODE_ID: "web-1",
  });
});
afterEach(async () => {
  process.env = { ...saved };
  await fx[Symbol.asyncDispose]();
});

const sync = () => runPass(loadApp(fx.node), { command: "test" });
const lines = () => (existsSync(marks) ? readFileSync(marks, "utf8").trim().split("\n") : []);
const lastDeploy = () => readDeploys(loadApp(fx.node).paths.deploys).at(-1)!;

/** protocol.json with these hooks, the hook script, a compose file, and a health probe that fails when `bad` exists. */
function files(hooks: Record<string, unknown>, extra: Record<string, string> = {}): Record<string, string> {
  return {
    "protocol.json": JSON.stringify({
      docker: { project: "shop" },
      deploy: { hooks, health: { timeout: 5, command: { service: "app", run: ["check-health"], retries: 0 } } },
    }),
    "hook.sh": SCRIPT,
    "docker-compose.yml": "services:\n  app:\n    image: busybox\n",
    ".gitignore": ".env\n",
    ...extra,
  };
}
const step = (name: string, code = 0) => ({ run: ["sh", "./hook.sh", name, String(code)] });

describe("deploy hooks (real host commands, fake docker)", () => {
  test("around a good deploy: beforeMove, afterUp, afterHealthy, in order, each with the deploy's facts; deploy:log has them", async () => {
    await fx.push(files({ beforeMove: [step("before")], afterUp: [step("up")], afterHealthy: [step("healthy")] }));
    expect((await sync()).result).toBe("deployed");
    const first = await fx.head();
    const next = await fx.push({ "app.txt": "v2\n" }, "v2");
    // The commit that brings the hooks is governed by them: its beforeMove ran too (its hook.sh as the commit has it).
    expect(lines().map((l) => l.split(" ")[0])).toEqual(["before", "up", "healthy"]);
    const outcome = await sync();
    expect(outcome.result).toBe("deployed");
    expect(lines().slice(3)).toEqual([
      `before from=${first} to=${next} reason=commit node=web-1 dir=${fx.node} secret=none`,
      `up from=${first} to=${next} reason=commit node=web-1 dir=${fx.node} secret=none`,
      `healthy from=${first} to=${next} reason=commit node=web-1 dir=${fx.node} secret=none`,
    ]);
    expect(lastDeploy().hooks.map((h) => [h.point, h.step, h.exitCode])).toEqual([
      ["beforeMove", 1, 0],
      ["afterUp", 1, 0],
      ["afterHealthy", 1, 0],
    ]);
    // An idle poll runs no hook.
    expect((await sync()).result).toBe("up-to-date");
    expect(lines()).toHaveLength(6);
  });

  test("beforeMove fails: the working copy is not moved, no compose up runs, deploy:log records the error with the exit code", async () => {
    await fx.push(files({}));
    expect((await sync()).result).toBe("deployed");
    const before = await fx.head();
    const ups = () => fx.dockerCalls().filter((argv) => argv.includes("up")).length;
    const calls = ups();
    // The incoming commit's own beforeMove governs taking it.
    await fx.push(
      { "protocol.json": files({ beforeMove: [step("drain", 3), step("never")] })["protocol.json"]! },
      "v2",
    );
    const outcome = await sync();
    expect(outcome.result).toBe("error");
    expect(outcome.error).toContain("hook beforeMove[1] (sh ./hook.sh drain 3) failed: exit 3; nothing was moved");
    expect(await fx.head()).toBe(before);
    // The new commit's images were pulled before the hook (pulling disturbs nothing); nothing was brought up.
    expect(ups()).toBe(calls);
    expect(lines().map((l) => l.split(" ")[0])).toEqual(["drain"]);
    expect(lastDeploy()).toMatchObject({ result: "error", hooks: [{ point: "beforeMove", step: 1, exitCode: 3 }] });
  });

  test("afterUp fails: the deploy fails and is rolled back, and afterRollback runs after the rollback", async () => {
    await fx.push(files({ afterUp: [step("migrate")], afterRollback: [step("rolled-back")] }));
    expect((await sync()).result).toBe("deployed");
    const good = await fx.head();
    const bad = await fx.push(
      {
        "protocol.json": files({ afterUp: [step("migrate", 1)], afterRollback: [step("rolled-back")] })[
          "protocol.json"
        ]!,
      },
      "a migration that fails",
    );
    const outcome = await sync();
    expect(outcome.result).toBe("rolled-back");
    expect(outcome.error).toContain("hook afterUp[1] (sh ./hook.sh migrate 1) failed: exit 1");
    expect(await fx.head()).toBe(good);
    // The rollback's own hooks are the good commit's.
    expect(lines().at(-1)).toBe(
      `rolled-back from=${bad} to=${good} reason=rollback node=web-1 dir=${fx.node} secret=none`,
    );
    expect(lastDeploy().hooks.map((h) => [h.point, h.exitCode])).toEqual([
      ["afterUp", 1],
      ["afterRollback", 0],
    ]);
  });

  test("afterHealthy fails: logged, the deploy stands", async () => {
    await fx.push(files({ afterHealthy: [step("undrain", 2)] }));
    const outcome = await sync();
    expect(outcome.result).toBe("deployed");
    expect(lastDeploy()).toMatchObject({ result: "deployed", hooks: [{ point: "afterHealthy", exitCode: 2 }] });
  });

  test("a step past its timeout is killed with its whole process group", async () => {
    const slow = `#!/bin/sh\nsleep 300 &\necho $! > "$MARKS.child"\nsleep 300\n`;
    await fx.push(files({ afterUp: [{ run: ["sh", "./slow.sh"], timeout: 1 }] }, { "slow.sh": slow }));
    const outcome = await sync();
    // A first deploy: nothing to roll back to, recorded as failed.
    expect(outcome.result).toBe("error");
    expect(outcome.error).toContain("killed after 1s (its timeout), with its process group");
    const child = Number(readFileSync(`${marks}.child`, "utf8"));
    expect(await gone(child, 10_000)).toBe(true);
    expect(lastDeploy().hooks).toMatchObject([{ point: "afterUp", timedOut: true }]);
  });

  test("the app's .env reaches a step only with env: app, and never its argv; a service step runs through compose exec -T", async () => {
    process.env.FAKE_DOCKER_EXEC_RUN = "1";
    process.env.FAKE_DOCKER_EXEC_EXIT = JSON.stringify({ "check-health": 0 });
    await fx.push(
      files({
        afterUp: [
          { run: ["sh", "./hook.sh", "plain"] },
          { run: ["sh", "./hook.sh", "with-env"], env: "app" },
          // In the "container" only the -e variables exist: the marks file is an argument.
          { service: "app", run: ["sh", `${fx.node}/hook.sh`, "in-service", "0", marks], env: "app" },
        ],
      }),
    );
    await Bun.write(join(fx.node, ".env"), "APP_SECRET=hunter2\n");
    expect((await sync()).result).toBe("deployed");
    expect(lines().map((l) => l.split(" ").at(-1))).toEqual(["secret=none", "secret=hunter2", "secret=hunter2"]);
    const exec = fx.dockerCalls().find((argv) => argv.includes("exec") && argv.includes("in-service"))!;
    expect(exec).toContain("-T");
    expect(exec).toEqual(expect.arrayContaining(["-e", "PROTOCOL_TO", "-e", "APP_SECRET"]));
    expect(JSON.stringify(fx.dockerCalls())).not.toContain("hunter2");
  });
});

describe("deploy hooks when the engine goes down (fake docker)", () => {
  test("a service step that fails because the engine stopped is the infrastructure's fault: no rollback, no quarantine, deployed once it is back", async () => {
    const down = join(fx.root, "engine-down");
    process.env.FAKE_DOCKER_ENGINE_DOWN = down;
    await fx.push(files({}));
    expect((await sync()).result).toBe("deployed");
    const good = await fx.head();
    // The engine stops between `up` and the migration (the host step stops it).
    const next = await fx.push(
      {
        "protocol.json": files({
          afterUp: [{ run: ["sh", "-c", `touch '${down}'`] }, { service: "app", run: ["php", "artisan", "migrate"] }],
        })["protocol.json"]!,
      },
      "a migration",
    );
    const outcome = await sync();
    expect(outcome.result).toBe("error");
    expect(await fx.head()).toBe(next);
    expect(lastDeploy()).toMatchObject({ result: "error", rolledBackTo: null });
    expect(readNodeState(loadApp(fx.node).paths.status).quarantine).toBeNull();
    expect(readNodeState(loadApp(fx.node).paths.status).deployedCommit).toBe(good);
    // Back: the same commit deploys without a push (the first step is done and is not run again).
    rmSync(down);
    expect((await sync()).result).toBe("deployed");
    expect(readNodeState(loadApp(fx.node).paths.status).deployedCommit).toBe(next);
  });
});

describe("hooks run once per deploy, keyed by its id (issue 23)", () => {
  test("a config redeploy of the same commit runs its hooks, although an earlier deploy's marker for that commit is left", async () => {
    await fx.push(files({ beforeMove: [step("before")], afterUp: [step("up")] }));
    expect((await sync()).result).toBe("deployed");
    const head = await fx.head();
    const app = loadApp(fx.node);
    // The linked config changed since the deploy (its hash differs), and an earlier deploy of this
    // commit left its finished steps behind (a deploy:rollback ended it, or an older protocol).
    updateNodeState(app.paths.status, {
      deployedConfigHash: "sha256-of-the-config-before",
      hooksDone: { deployId: "an-earlier-deploy", to: head, steps: ["beforeMove:1", "afterUp:1"] },
    });
    const before = lines().length;
    expect((await sync()).result).toBe("deployed");
    expect(lastDeploy()).toMatchObject({ reason: "config", from: head, to: head });
    expect(lines().slice(before)).toEqual([
      `before from=${head} to=${head} reason=config node=web-1 dir=${fx.node} secret=none`,
      `up from=${head} to=${head} reason=config node=web-1 dir=${fx.node} secret=none`,
    ]);
    // The deploy is over: its marker is gone, and the next pass runs nothing.
    expect(readNodeState(app.paths.status).hooksDone).toBeNull();
    expect((await sync()).result).toBe("up-to-date");
    expect(lines()).toHaveLength(before + 2);
  });
});
