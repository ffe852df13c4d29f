/**
 * Issue 18 at the command line: a deploy cut short by kill -9 between two hook steps is resumed
 * without running the finished step again; deploy:hooks --dry-run shows what the next deploy runs.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Fixture } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

const migrations = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").length : 0);

describe("deploy hooks (fake docker)", () => {
  test("kill -9 between two afterUp steps: the next sync finishes the deploy and does not run the first step again", async () => {
    const log = join(fx.root, "migrations.log");
    const once = join(fx.root, "killed-once");
    const hooks = {
      afterUp: [
        { run: ["sh", "-c", `echo migrated >> '${log}'`] },
        // The first time, it kills protocol itself (its parent): a crash between two steps.
        { run: ["sh", "-c", `[ -f '${once}' ] || { touch '${once}'; kill -9 $PPID; sleep 5; }`] },
      ],
    };
    await fx.push({
      "protocol.json": JSON.stringify({ deploy: { hooks } }),
      "docker-compose.yml": "services:\n  app:\n    image: busybox\n",
    });
    const killed = await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true });
    expect(killed.exitCode).not.toBe(0);
    expect(migrations(log)).toBe(1);
    const resumed = await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(
      "hook afterUp[1]: already ran for this deploy before protocol was interrupted; skipped",
    );
    expect(migrations(log)).toBe(1);
    const deploys = JSON.parse((await fx.cli(["deploy:log", "--dir", fx.node, "--json"])).stdout);
    expect(deploys.at(-1)).toMatchObject({ result: "deployed", hooks: [{ point: "afterUp", step: 2, exitCode: 0 }] });
    // The next deploy is a new one: its steps run again.
    await fx.push({ "app.txt": "v2\n" }, "v2");
    expect((await fx.cli(["git:pull", "--dir", fx.node], { fakeDocker: true })).exitCode).toBe(0);
    expect(migrations(log)).toBe(2);
  });

  test("deploy:hooks --dry-run lists each point's steps, where they run, their timeout and environment; --json for scripts", async () => {
    const hooks = {
      beforeMove: [{ run: ["./scripts/drain.sh"], timeout: 60 }],
      afterUp: [{ service: "app", run: ["php", "artisan", "migrate", "--force"], env: "app" }],
    };
    await fx.push({ "protocol.json": JSON.stringify({ deploy: { hooks } }) });
    await fx.cli(["git:pull", "--dir", fx.node]);
    const shown = await fx.cli(["deploy:hooks", "--dry-run", "--dir", fx.node]);
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/beforeMove\s+1\s+host\s+\.\/scripts\/drain\.sh\s+60s/);
    expect(shown.stdout).toMatch(/afterUp\s+1\s+service app\s+php artisan migrate --force\s+300s\s+\+ \.env/);
    expect(shown.stdout).toContain("afterHealthy");
    const json = JSON.parse((await fx.cli(["deploy:hooks", "--dry-run", "--dir", fx.node, "--json"])).stdout);
    expect(json.steps).toHaveLength(2);
    expect(json.environment).toEqual([
      "PROTOCOL_FROM",
      "PROTOCOL_TO",
      "PROTOCOL_REASON",
      "PROTOCOL_NODE_ID",
      "PROTOCOL_ENV",
      "PROTOCOL_DIR",
    ]);
  });
});
