import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigFixture } from "../helpers/config-fixture.ts";
import { cliArgv, eventually, FAKE_DOCKER_DIR, git } from "../helpers/fixture.ts";
import { startGitHttp } from "../helpers/git-http.ts";
import { gone } from "../helpers/processes.ts";

let cf: ConfigFixture;
afterEach(async () => cf[Symbol.asyncDispose]());

const COMPOSE = { "docker-compose.yml": "services: {}\n" };
const ups = () => cf.fx.dockerCalls().filter((argv) => argv.includes("up"));
const configStatus = async () => {
  const run = await cf.cli(["config:status", "--dir", cf.node, "--json"]);
  if (run.exitCode !== 0) throw new Error(`config:status failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
};
const stateText = (file: string) => {
  const path = join(cf.fx.env.PROTOCOL_HOME!, "apps");
  const glob = new Bun.Glob(`*/${file}`);
  return [...glob.scanSync(path)].map((p) => readFileSync(join(path, p), "utf8")).join("");
};

describe("one loop per app", () => {
  test("an older protocol's separate config loop (config:slave --foreground) is stopped by restart; the app's one loop follows both repos", async () => {
    cf = await ConfigFixture.create({ appFiles: COMPOSE });
    expect(
      (await cf.cli(["start", "--dir", cf.node, "--interval", "1", "--no-cron"], { fakeDocker: true })).exitCode,
    ).toBe(0);
    // A reboot: the loop dies without a word.
    const loop = JSON.parse((await cf.cli(["status", "--dir", cf.node, "--json"])).stdout).slave.pid;
    process.kill(loop, "SIGKILL");
    expect(await gone(loop)).toBe(true);
    // What an older protocol's systemd unit or start left running: the config part as a process of its own.
    const legacy = Bun.spawn([...cliArgv(), "config:slave", "--foreground", "--dir", cf.node, "--interval", "1"], {
      env: { ...process.env, ...cf.fx.env, PATH: `${FAKE_DOCKER_DIR}:${cf.fx.env.PATH ?? process.env.PATH}` },
      stdio: ["ignore", "ignore", "ignore"],
    });
    expect(await eventually(async () => (await configStatus()).slave.running === true, 10_000)).toBe(true);
    const restarted = await cf.cli(["restart"], { cwd: "/", fakeDocker: true });
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    expect(await eventually(async () => (await legacy.exited) !== undefined, 10_000)).toBe(true);
    const status = JSON.parse((await cf.cli(["status", "--dir", cf.node, "--json"])).stdout);
    expect(status.slave.running).toBe(true);
    expect(status.slave.pid).not.toBe(legacy.pid);
    expect(status.follow).toEqual({ app: true, config: true });
    expect((await configStatus()).slave.pid).toBe(status.slave.pid);
  });
});

describe("following config changes", () => {
  test("a config commit pushed to the remote is followed by the node and triggers exactly one compose up (fake docker)", async () => {
    cf = await ConfigFixture.create({ appFiles: COMPOSE });
    // Both remotes over HTTP, so both loops' polls can be counted.
    await using server = startGitHttp(cf.fx.root);
    await git(cf.node, "remote", "set-url", "origin", server.url("remote.git"));
    await git(cf.config, "remote", "set-url", "origin", server.url("config.git"));
    const started = await cf.cli(["start", "--dir", cf.node, "--interval", "1", "--no-cron", "--json"], {
      fakeDocker: true,
    });
    expect(started.exitCode).toBe(0);
    const report = JSON.parse(started.stdout);
    // One loop per app: the process that follows the app follows the config repo too.
    expect(report.configSlave.pid).toBeNumber();
    expect(report.configSlave.pid).toBe(report.slave.pid);
    expect(readFileSync(join(cf.node, ".env"), "utf8")).toBe("SECRET=hunter2\n");
    expect(ups()).toHaveLength(1);

    const pushed = await cf.pushConfig({ ".env": "SECRET=rotated\n" });
    expect(await eventually(async () => (await git(cf.config, "rev-parse", "HEAD")) === pushed, 15_000)).toBe(true);
    expect(await eventually(() => ups().length === 2, 10_000)).toBe(true);
    // Three more polls of each loop after that: nothing else may run compose.
    const polls = { app: server.refsRequests("remote.git"), config: server.refsRequests("config.git") };
    expect(
      await eventually(
        () =>
          server.refsRequests("remote.git") >= polls.app + 3 && server.refsRequests("config.git") >= polls.config + 3,
        30_000,
      ),
    ).toBe(true);
    expect(ups()).toHaveLength(2);
    expect(readFileSync(join(cf.node, ".env"), "utf8")).toBe("SECRET=rotated\n");
    const deploys = JSON.parse((await cf.cli(["deploy:log", "--dir", cf.node, "--json"])).stdout);
    expect(deploys.at(-1)).toMatchObject({ result: "deployed", reason: "config" });
    expect((await configStatus()).lastSync).toMatchObject({ error: null });

    const logs = stateText("slave.log");
    expect(stateText("config-slave.log")).toBe("");
    expect(logs).toMatch(/success config production updated [0-9a-f]{8} → [0-9a-f]{8}\n.*success deployed/);
    expect(logs).not.toContain("hunter2");
    expect(logs).not.toContain("rotated");

    const stopped = await cf.cli(["stop", "--dir", cf.node, "--json"]);
    expect(JSON.parse(stopped.stdout).configSlave.pid).toBe(report.configSlave.pid);
    expect((await configStatus()).slave.running).toBe(false);
  });

  test("the config slave never overwrites edits made on the box: it refuses and says so", async () => {
    cf = await ConfigFixture.create();
    await cf.cli(["config:link", "--dir", cf.node]);
    writeFileSync(join(cf.node, ".env"), "SECRET=local-edit\n");
    const before = await git(cf.config, "rev-parse", "HEAD");
    await cf.pushConfig({ ".env": "SECRET=from-remote\n" });
    expect((await cf.cli(["config:slave", "--dir", cf.node, "--interval", "1"])).exitCode).toBe(0);
    expect(await eventually(async () => (await configStatus()).lastSync?.result === "dirty", 10_000)).toBe(true);
    expect(await git(cf.config, "rev-parse", "HEAD")).toBe(before);
    expect(readFileSync(join(cf.node, ".env"), "utf8")).toBe("SECRET=local-edit\n");
    // The node's own status shows the config slave's refusal too, not only config:status.
    const node = await cf.cli(["status", "--dir", cf.node]);
    expect(node.stdout).toMatch(/config sync\s+dirty at .*: /);
    expect(stateText("slave.log")).toContain("config sync dirty");
    expect((await cf.cli(["config:slave:stop", "--dir", cf.node])).exitCode).toBe(0);
    expect((await configStatus()).slave.running).toBe(false);
  });
});

describe("the config sync checks the incoming tree before it moves", () => {
  test("an incoming file whose link would land on a real file of the app is refused with the config repo left where it was", async () => {
    cf = await ConfigFixture.create();
    await cf.cli(["config:link", "--dir", cf.node]);
    writeFileSync(join(cf.node, "app.conf"), "the app's own file\n");
    const before = await git(cf.config, "rev-parse", "HEAD");
    await cf.pushConfig({ "app.conf": "from the config repo\n" });
    expect((await cf.cli(["config:slave", "--dir", cf.node, "--interval", "1"])).exitCode).toBe(0);
    expect(await eventually(async () => (await configStatus()).lastSync?.result === "error", 10_000)).toBe(true);
    expect((await configStatus()).lastSync.error).toContain("app.conf");
    expect(await git(cf.config, "rev-parse", "HEAD")).toBe(before);
    expect(readFileSync(join(cf.node, "app.conf"), "utf8")).toBe("the app's own file\n");
    expect((await cf.cli(["config:slave:stop", "--dir", cf.node])).exitCode).toBe(0);
  });
});

describe("start with an environment", () => {
  test("start localhost on a laptop links config and runs compose, records the env, and leaves git alone (fake docker)", async () => {
    cf = await ConfigFixture.create({ appFiles: COMPOSE });
    await cf.pushConfig({ ".env": "DEV=1\n" }, "localhost dev", "localhost-jane");
    const head = await cf.fx.head();
    await cf.fx.push({ "app.txt": "not pulled on a laptop\n" });
    const run = await cf.cli(["start", "localhost-jane", "--dir", cf.node, "--no-cron", "--json"], {
      fakeDocker: true,
    });
    expect(run.exitCode).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      slave: null,
      configSlave: null,
      config: { env: "localhost-jane", dev: true, branch: "localhost-jane" },
    });
    expect(await cf.fx.head()).toBe(head);
    expect(readFileSync(join(cf.node, ".env"), "utf8")).toBe("DEV=1\n");
    expect(ups()).toHaveLength(1);
    // Recorded for this app; the machine's default (config:env) is left as it was.
    expect((await cf.cli(["config:env", "--json"])).stdout).toContain(`"env": null`);
    const status = JSON.parse((await cf.cli(["status", "--dir", cf.node, "--json"])).stdout);
    expect(status.slave.running).toBe(false);
    expect(status.config.env).toBe("localhost-jane");
  });

  test("config:switch on a deployed node relinks and brings the containers up once (fake docker)", async () => {
    cf = await ConfigFixture.create({ appFiles: COMPOSE });
    await cf.pushConfig({ ".env": "STAGING=1\n" }, "staging", "staging");
    await cf.pushConfig({ ".env": "DEV=1\n" }, "development", "development");
    expect((await cf.cli(["start", "development", "--dir", cf.node, "--no-cron"], { fakeDocker: true })).exitCode).toBe(
      0,
    );
    expect(ups()).toHaveLength(1);
    const run = await cf.cli(["config:switch", "staging", "--dir", cf.node], { fakeDocker: true });
    expect(run.exitCode).toBe(0);
    expect(ups()).toHaveLength(2);
    expect((await cf.cli(["config:switch", "staging", "--dir", cf.node], { fakeDocker: true })).exitCode).toBe(0);
    expect(ups()).toHaveLength(2);
  });
});

describe("config:init", () => {
  test("creates the repo beside the app with a first commit on the env branch", async () => {
    cf = await ConfigFixture.create({ clone: false });
    const run = await cf.cli(["config:init", "--dir", cf.node, "--yes", "--env", "staging", "--json"]);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ dir: cf.config, branch: "staging", cloned: false, remote: null });
    expect(await git(cf.config, "log", "--format=%s")).toBe("protocol: staging environment");
    expect((await cf.cli(["config:init", "--dir", cf.node, "--yes"])).exitCode).toBe(4);
  });

  test("without a TTY and without --remote or --yes it does not prompt: it says to pass --yes", async () => {
    cf = await ConfigFixture.create({ clone: false });
    const run = await cf.cli(["config:init", "--dir", cf.node]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("--yes");
    expect(existsSync(cf.config)).toBe(false);
  });

  test("clones an empty remote, pushes the first commit, and --save records it in protocol.json with a backup", async () => {
    cf = await ConfigFixture.create({
      clone: false,
      appFiles: { "protocol.json": JSON.stringify({ name: "shop-app" }) },
    });
    const empty = join(cf.fx.root, "empty-config.git");
    await git(cf.fx.root, "init", "--quiet", "--bare", empty);
    const run = await cf.cli(["config:init", "--dir", cf.node, "--remote", empty, "--save", "--json"]);
    expect(run.exitCode).toBe(0);
    const report = JSON.parse(run.stdout);
    const dir = join(cf.fx.root, "shop-app-config");
    expect(report).toMatchObject({ dir, branch: "production", cloned: true, pushed: true });
    expect(await git(empty, "log", "--format=%s", "production")).toBe("protocol: production environment");
    const saved = JSON.parse(readFileSync(join(cf.node, "protocol.json"), "utf8"));
    expect(saved).toEqual({ name: "shop-app", configuration: { local: "../shop-app-config", remote: empty } });
    expect(readFileSync(report.protocolJson.backup, "utf8")).toBe(JSON.stringify({ name: "shop-app" }));
  });
});

describe("one app's environment never changes another's", () => {
  test("start staging for app2 leaves app1 on production, also when app1 starts again without an env (fake docker)", async () => {
    cf = await ConfigFixture.create({ appFiles: COMPOSE });
    await cf.pushConfig({ ".env": "SECRET=staging\n" }, "staging config", "staging");
    const two = await ConfigFixture.create({ nodeName: "app two", appFiles: COMPOSE });
    try {
      await two.pushConfig({ ".env": "SECRET=two-staging\n" }, "staging config", "staging");
      // One machine: both apps share one state dir (and its machine.json).
      const machine = { PROTOCOL_HOME: cf.fx.env.PROTOCOL_HOME };
      const start = (fx: ConfigFixture, ...env: string[]) =>
        fx.cli(["start", ...env, "--dir", fx.node, "--no-cron", "--interval", "60"], {
          fakeDocker: true,
          env: machine,
        });
      expect((await start(cf, "production")).exitCode).toBe(0);
      expect((await start(two, "staging")).exitCode).toBe(0);
      expect(readFileSync(join(two.node, ".env"), "utf8")).toBe("SECRET=two-staging\n");
      expect((await start(cf)).exitCode).toBe(0);
      expect(await git(cf.config, "branch", "--show-current")).toBe("production");
      expect(readFileSync(join(cf.node, ".env"), "utf8")).toBe("SECRET=hunter2\n");
      const status = JSON.parse((await cf.cli(["status", "--dir", cf.node, "--json"])).stdout);
      expect(status.config.env).toBe("production");
    } finally {
      await two.cli(["stop", "--dir", two.node], { env: { PROTOCOL_HOME: cf.fx.env.PROTOCOL_HOME } });
      await two[Symbol.asyncDispose]();
      await cf.cli(["stop", "--dir", cf.node]);
    }
  });
});
