/**
 * Issue 23 end to end: the loop converges the deployed commit's containers (spec-23), against a real
 * engine with compose v1. Each test drives protocol through its CLI only (start, restart, stop,
 * status --json, deploy:log --json, logs, doctor) and the engine through docker (stop, kill, inspect,
 * events): a reboot, stop --down then start, containers stopped or killed behind the loop's back,
 * a commit whose container exits at once, a crash-looping service, and a config change that is a new
 * deploy with its hooks.
 *
 * Every service runs one busybox image whose PID 1 exits 143 on SIGTERM, so `docker stop` is quick
 * and leaves a known exit code (`docker kill` leaves 137). `deploy.settleSeconds` is 1 everywhere: the
 * tests are not about the settle gate's length, and its default (10 s) would make the file slow.
 * A failing test prints the tail of `protocol logs`, the convergence fields of `status --json` and
 * the project's containers.
 */
import { afterEach, beforeAll, describe, expect } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigFixture } from "../helpers/config-fixture.ts";
import { type Container, useDockerEnv } from "../helpers/docker-env.ts";
import { eventually, Fixture, git, type Run } from "../helpers/fixture.ts";
import { type GitHttpServer, startGitHttp } from "../helpers/git-http.ts";
import { gone } from "../helpers/processes.ts";

const engine = await useDockerEnv();
const image = () => `${engine.registry}/e2e/converge:latest`;

/** sh as PID 1: a TERM ends it at once with 143, as a real server killed by SIGTERM would. */
const DOCKERFILE = (base: string) => `FROM ${base}
CMD ["sh", "-c", "trap 'exit 143' TERM; sleep 3600 & wait"]
`;

/** What the tests tune per service; the rest is the same everywhere. */
interface Service {
  command?: string[];
  environment?: Record<string, string>;
  envFile?: string;
  volumes?: string[];
}

/** A compose file (JSON is YAML): no network, so compose creates none and a start costs less. */
function composeFile(services: Record<string, Service>): string {
  const entries = Object.entries(services).map(([name, service]) => [
    name,
    {
      image: image(),
      network_mode: "none",
      stop_grace_period: "1s",
      ...(service.command ? { command: service.command } : {}),
      ...(service.environment ? { environment: service.environment } : {}),
      ...(service.envFile ? { env_file: [service.envFile] } : {}),
      ...(service.volumes ? { volumes: service.volumes } : {}),
    },
  ]);
  return `${JSON.stringify({ version: "2.4", services: Object.fromEntries(entries) }, null, 2)}\n`;
}

function protocolJson(
  project: string,
  extra: { docker?: Record<string, unknown>; deploy?: Record<string, unknown>; configuration?: { local: string } } = {},
): string {
  const config = {
    name: project,
    docker: { project, ...extra.docker },
    deploy: { settleSeconds: 1, ...extra.deploy },
    ...(extra.configuration ? { configuration: extra.configuration } : {}),
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** `<service> was exited (code N); started it` / `<service> was missing; started it`, the spec's heal line. */
const healLine = (service: string) => new RegExp(`\\b${service} was (exited \\(code \\d+\\)|missing); started it`);

/** An afterUp host hook that adds a line per run (why it ran, for which commit) to a file. */
function hookMarker(): { afterUp: { run: string[] }[]; ran: () => string[] } {
  const marker = join(mkdtempSync(join(tmpdir(), "converge-hook-")), "after-up");
  return {
    afterUp: [{ run: ["sh", "-c", `echo "$PROTOCOL_REASON $PROTOCOL_TO" >> '${marker}'`] }],
    ran: () => (existsSync(marker) ? readFileSync(marker, "utf8").split("\n").filter(Boolean) : []),
  };
}

/** The background loops working on `dir`, by their command line (`git:slave --foreground --dir <dir>`). */
function loopsOf(dir: string): string[] {
  const found = new Map<string, { ppid: string; name: string }>();
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (!argv.includes("--foreground") || !argv.includes(dir)) continue;
      // The parent pid: the field after the state, past the command name in parentheses.
      const ppid = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[1] ?? "";
      found.set(pid, { ppid, name: argv.find((word) => word.endsWith(":slave")) ?? argv.join(" ") });
    } catch {
      // gone meanwhile
    }
  }
  // A child the loop is spawning (git, docker) carries the loop's command line until its exec: not a loop.
  return [...found.values()]
    .filter((p) => !found.has(p.ppid))
    .map((p) => p.name)
    .sort();
}

describe("real engine, compose v1: the loop converges the containers (issue 23)", () => {
  let fx: Fixture | undefined;
  let cf: ConfigFixture | undefined;
  let project = "";

  beforeAll(async () => {
    if (!engine.ready) return;
    await engine.buildImage(image(), DOCKERFILE(engine.baseImage));
    await engine.pushImage(image());
  }, 60_000);

  afterEach(async () => {
    if (fx) await fx.cli(["stop", "--dir", fx.node], { env: engine.env });
    await engine.removeProject(project);
    if (cf) await cf[Symbol.asyncDispose]();
    else if (fx) await fx[Symbol.asyncDispose]();
    fx = undefined;
    cf = undefined;
  }, 60_000);

  /** A node of an app with this compose file and protocol.json; not started. */
  async function createApp(
    services: Record<string, Service>,
    extra: Parameters<typeof protocolJson>[1] = {},
  ): Promise<Fixture> {
    project = `e2e-${crypto.randomUUID().slice(0, 8)}`;
    fx = await Fixture.create({
      files: { "protocol.json": protocolJson(project, extra), "docker-compose.yml": composeFile(services) },
    });
    return fx;
  }

  /** The app's remote over HTTP, so the loop's polls can be counted ("nothing else happened" after N more). */
  async function countPolls(): Promise<GitHttpServer> {
    const server = startGitHttp(fx!.root);
    await git(fx!.node, "remote", "set-url", "origin", server.url("remote.git"));
    return server;
  }

  const cli = (args: string[]) => fx!.cli(args, { env: engine.env });
  async function ok(args: string[]): Promise<Run> {
    const run = await cli(args);
    if (run.exitCode !== 0)
      throw new Error(
        `protocol ${args.join(" ")} exited ${run.exitCode}:\n${run.stderr.trim().split("\n").slice(-15).join("\n")}`,
      );
    return run;
  }
  const start = (...flags: string[]) => ok(["start", "--dir", fx!.node, "--interval", "1", ...flags]);
  const status = async () => JSON.parse((await ok(["status", "--dir", fx!.node, "--json"])).stdout);
  const deploys = async (): Promise<any[]> =>
    JSON.parse((await ok(["deploy:log", "--dir", fx!.node, "--json", "--limit", "100"])).stdout);
  const logLines = async (): Promise<string[]> =>
    (await ok(["logs", "--dir", fx!.node, "-n", "1000"])).stdout.split("\n").filter(Boolean);
  const healLines = async (service: string) => (await logLines()).filter((line) => healLine(service).test(line));

  const running = async (service: string): Promise<Container | undefined> =>
    (await engine.projectContainers(project)).find((c) => c.service === service && c.running);

  /** When the engine started one of the project's containers since `since` (ms), in ms: deploys and heals. */
  async function containerStarts(since: number): Promise<number[]> {
    const out = await engine.dockerOk([
      "events",
      "--since",
      (since / 1000).toFixed(3),
      "--until",
      (Date.now() / 1000).toFixed(3),
      "--filter",
      "type=container",
      "--filter",
      "event=start",
      "--filter",
      `label=com.docker.compose.project=${project}`,
      "--format",
      "{{.TimeNano}}",
    ]);
    return out
      .split("\n")
      .filter(Boolean)
      .map((nanos) => Number(BigInt(nanos) / 1_000_000n));
  }

  /** Poll with a deadline; on timeout, fail naming what did not happen. */
  async function until<T>(what: string, check: () => Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
    let last: T | undefined;
    const done = await eventually(
      async () => {
        last = await check();
        return Boolean(last);
      },
      timeoutMs,
      200,
    );
    if (!done) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    return last as NonNullable<T>;
  }

  /** The loop's polls: wait for `count` more, the known later event after which nothing else may have happened. */
  const morePolls = (server: GitHttpServer, count = 3) => {
    const seen = server.refsRequests("remote.git");
    return until(`${count} more polls of the loop`, async () => server.refsRequests("remote.git") >= seen + count);
  };

  /** What a failure needs to be understood: the loop's log, what status says about convergence, the containers. */
  async function diagnostics(): Promise<string> {
    if (!fx) return "";
    const parts: string[] = [];
    const logs = await fx.cli(["logs", "--dir", fx.node, "-n", "40"], { env: engine.env });
    parts.push(`--- protocol logs (last 40) ---\n${logs.stdout.trim() || logs.stderr.trim()}`);
    const run = await fx.cli(["status", "--dir", fx.node, "--json"], { env: engine.env });
    try {
      const s = JSON.parse(run.stdout);
      const picked = {
        deployedCommit: s.deployedCommit,
        slave: s.slave,
        lastSync: s.lastSync,
        lastDeploy: s.lastDeploy && {
          to: s.lastDeploy.to,
          reason: s.lastDeploy.reason,
          result: s.lastDeploy.result,
          error: s.lastDeploy.error,
        },
        quarantine: s.quarantine,
        heal: s.heal ?? "(no heal field)",
        containers: s.containers,
        containersError: s.containersError,
        config: s.config && { slave: s.config.slave, lastSync: s.config.lastSync },
      };
      parts.push(`--- status --json (convergence fields) ---\n${JSON.stringify(picked, null, 2)}`);
    } catch {
      parts.push(`--- status --json exited ${run.exitCode} ---\n${run.stderr.trim()}`);
    }
    const ps = await engine.docker([
      "ps",
      "--all",
      "--filter",
      `label=com.docker.compose.project=${project}`,
      "--format",
      "{{.Names}}  {{.Status}}",
    ]);
    parts.push(`--- containers of ${project} ---\n${ps.stdout.trim() || "(none)"}`);
    return parts.join("\n");
  }

  /** An e2e test that prints the diagnostics when it fails. */
  const converges = (name: string, body: () => Promise<void>, timeoutMs = 90_000) =>
    engine.test(
      name,
      async () => {
        try {
          await body();
        } catch (error) {
          console.error(`\n=== ${name} ===\n${await diagnostics()}\n`);
          throw error;
        }
      },
      timeoutMs,
    );

  converges(
    "after a reboot (loop killed with SIGKILL, container stopped) protocol restart brings the container back to running",
    async () => {
      await createApp({ app: {} });
      await using server = await countPolls();
      await start("--no-cron");
      const before = await until("app running after start", () => running("app"));

      // The reboot: the loop dies without a word, then the engine stops the container.
      const { slave } = await status();
      const pid: number = slave.pid;
      expect({ running: slave.running, pid: typeof pid }).toEqual({ running: true, pid: "number" });
      process.kill(pid, "SIGKILL");
      expect(await gone(pid, 10_000)).toBe(true);
      await engine.dockerOk(["stop", before.id]);
      expect(await running("app")).toBeUndefined();
      const stoppedAt = Date.now();

      const restarted = await ok(["restart", fx!.node]);
      await until("app running again after protocol restart", () => running("app"));
      expect((await status()).slave.running).toBe(true);
      await morePolls(server);
      // Started once: by restart's own pass (its stderr) or by the loop it started (the log), said once in each at most.
      expect(await containerStarts(stoppedAt)).toHaveLength(1);
      const inStderr = restarted.stderr.split("\n").filter((line) => healLine("app").test(line));
      const inLog = await healLines("app");
      expect(inStderr.length).toBeLessThanOrEqual(1);
      expect(inLog.length).toBeLessThanOrEqual(1);
      const said = [...inStderr, ...inLog];
      expect(said).not.toEqual([]);
      for (const line of said) expect(line).toContain("app was exited (code 143); started it");
    },
  );

  converges("protocol stop --down removes the containers, and protocol start brings them up again", async () => {
    await createApp({ app: {} });
    await start("--no-cron");
    await until("app running after start", () => running("app"));

    const stopped = await ok(["stop", "--dir", fx!.node, "--down", "--json"]);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ down: true });
    expect(await engine.projectContainers(project)).toEqual([]);
    expect((await status()).slave.running).toBe(false);

    await start("--no-cron");
    await until("app running after stop --down, then start", () => running("app"));
    expect((await status()).slave.running).toBe(true);
  });

  converges(
    "a container stopped, then one killed, behind the loop's back is started again, with one log line per heal, no deploy and no hooks",
    async () => {
      const hook = hookMarker();
      // The second heal is the second restart in the window: it waits 2 × backoffSeconds (1 s here, 10 s by default).
      await createApp(
        { app: {} },
        { deploy: { hooks: { afterUp: hook.afterUp } }, docker: { heal: { backoffSeconds: 1 } } },
      );
      await using server = await countPolls();
      const since = Date.now();
      await start("--no-cron");
      const first = await until("app running after start", () => running("app"));

      await engine.dockerOk(["stop", first.id]);
      const stoppedAt = performance.now();
      await until("app running again after docker stop", () => running("app"));
      console.log(
        `e2e: container stopped behind the loop's back → running again: ${Math.round(performance.now() - stoppedAt)} ms at --interval 1`,
      );
      await until("a heal line in protocol logs after docker stop", async () => (await healLines("app")).length >= 1);
      await morePolls(server);
      const afterStop = await healLines("app");
      expect(afterStop).toHaveLength(1);
      expect(afterStop[0]).toContain("app was exited (code 143); started it");

      const second = await running("app");
      await engine.dockerOk(["kill", second!.id]);
      await until("app running again after docker kill", () => running("app"));
      await until("a second heal line after docker kill", async () => (await healLines("app")).length >= 2);
      await morePolls(server);
      const afterKill = await healLines("app");
      expect(afterKill).toHaveLength(2);
      expect(afterKill[1]).toContain("app was exited (code 137); started it");

      // A heal is no deploy: one deploy:log record (the first), its hook ran once, the engine started the container 3 times.
      expect(await deploys()).toHaveLength(1);
      expect(hook.ran()).toHaveLength(1);
      expect(await containerStarts(since)).toHaveLength(3);
      expect((await status()).heal).toMatchObject({ crashLoop: null });
    },
  );

  converges(
    "a commit whose container exits at start (no deploy.health) is rolled back to the previous commit, whose container runs again",
    async () => {
      await createApp({ app: { environment: { VERSION: "good" } } });
      await start("--no-cron");
      await until("the good commit's container running", () => running("app"));
      const good = await fx!.head();

      const bad = await fx!.push(
        {
          "docker-compose.yml": composeFile({
            app: { command: ["sh", "-c", "exit 1"], environment: { VERSION: "bad" } },
          }),
        },
        "a container that exits 1 at start",
      );
      const record = await until(
        "a deploy:log record for the bad commit",
        async () => (await deploys()).find((d) => d.to === bad),
        30_000,
      );
      expect(record).toMatchObject({ to: bad, result: "rolled-back", rolledBackTo: good });
      expect((await deploys()).at(-1)).toMatchObject({ to: bad, result: "rolled-back" });
      expect(await fx!.head()).toBe(good);
      const back = await until("the good commit's container running again", async () => {
        const c = await running("app");
        return c?.env.VERSION === "good" ? c : undefined;
      });
      expect(back.env.VERSION).toBe("good");
      expect((await status()).quarantine).toMatchObject({ commit: bad });
    },
  );

  converges(
    "a service that dies every second is restarted maxRestarts times with backoff, then marked crash-looping (status, log, doctor) until protocol start",
    async () => {
      const heal = { backoffSeconds: 1, maxRestarts: 3, windowSeconds: 600 };
      // It passes the deploy (and its settle gate), then dies 1 s after every start once the test arms it.
      const armDir = mkdtempSync(join(tmpdir(), "converge-arm-"));
      await createApp(
        {
          flaky: {
            command: ["sh", "-c", "while [ ! -f /arm/armed ]; do sleep 0.2; done; sleep 1; exit 3"],
            volumes: [`${armDir}:/arm`],
          },
        },
        { docker: { heal } },
      );
      await using server = await countPolls();
      const since = Date.now();
      // With the crontab (the fixture's fake one), so doctor's crontab check passes and only the service fails it.
      await start();
      await until("flaky running after start", () => running("flaky"));

      writeFileSync(join(armDir, "armed"), "");
      const marked = await until(
        "the crash-looping line in protocol logs",
        async () => (await logLines()).find((line) => line.includes("flaky is crash-looping")),
        30_000,
      );
      expect(marked).toMatch(
        /flaky is crash-looping: restarted 3 times in \d+ s; left alone until the next commit, image or protocol start/,
      );
      await morePolls(server);

      // Exactly maxRestarts heals, and no tight loop behind them: the engine started it once for the deploy
      // and once per heal, the restarts spaced by the backoff (2 s, then 4 s; less 0.75 s for compose's own time).
      const heals = await healLines("flaky");
      expect(heals).toHaveLength(heal.maxRestarts);
      for (const line of heals) expect(line).toContain("flaky was exited (code 3); started it");
      const starts = await containerStarts(since);
      expect(starts).toHaveLength(1 + heal.maxRestarts);
      expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(2 * heal.backoffSeconds * 1000 - 750);
      expect(starts[3]! - starts[2]!).toBeGreaterThanOrEqual(4 * heal.backoffSeconds * 1000 - 750);
      const ups = (await logLines()).filter((line) => /running docker[- ]compose .* up\b/.test(line));
      expect(ups.length).toBeLessThanOrEqual(1 + heal.maxRestarts);
      expect(await running("flaky")).toBeUndefined();

      const s = await status();
      expect(s.heal?.crashLoop?.services).toEqual(["flaky"]);
      expect(s.heal.crashLoop.since).toEqual(expect.any(String));

      const doctor = await cli(["doctor", "--dir", fx!.node]);
      expect(doctor.exitCode).not.toBe(0);
      expect(doctor.stdout.split("\n").filter((line) => line.startsWith("✖") && line.includes("flaky"))).not.toEqual(
        [],
      );

      // A person's start clears the mark and heals again (disarmed: it stays up this time).
      rmSync(join(armDir, "armed"));
      await start();
      await until("flaky running again after protocol start", () => running("flaky"));
      expect((await status()).heal.crashLoop).toBeNull();
    },
  );

  converges(
    "a config repo change on the same commit is a config deploy of the app's one loop: the container is recreated and afterUp runs once more",
    async () => {
      project = `e2e-${crypto.randomUUID().slice(0, 8)}`;
      const hook = hookMarker();
      // The config repo beside the app, named: the default (../<name>-config) would follow the app's name.
      cf = await ConfigFixture.create({
        nodeName: "shop",
        appFiles: {
          "protocol.json": protocolJson(project, {
            deploy: { hooks: { afterUp: hook.afterUp } },
            configuration: { local: "../shop-config" },
          }),
          "docker-compose.yml": composeFile({ app: { envFile: "app.env" } }),
        },
        config: { "app.env": "GREETING=one\n" },
      });
      fx = cf.fx;
      // Both remotes over HTTP, so the polls of each can be counted.
      await using server = await countPolls();
      await git(cf.config, "remote", "set-url", "origin", server.url("config.git"));
      await start("--no-cron");
      await until("app running with GREETING=one", async () => (await running("app"))?.env.GREETING === "one");
      const commit = await fx.head();
      expect(hook.ran()).toHaveLength(1);

      await cf.pushConfig({ "app.env": "GREETING=two\n" }, "greet with two");
      const record = await until(
        "a config deploy in deploy:log",
        async () => (await deploys()).find((d) => d.reason === "config"),
        30_000,
      );
      expect(record).toMatchObject({ reason: "config", result: "deployed", to: commit });
      await until("app running with GREETING=two", async () => (await running("app"))?.env.GREETING === "two");
      const configPolls = server.refsRequests("config.git");
      await morePolls(server);
      await until("3 more polls of the config repo", async () => server.refsRequests("config.git") >= configPolls + 3);
      expect(await fx.head()).toBe(commit);
      expect((await deploys()).map((d) => d.reason)).toEqual([expect.any(String), "config"]);
      expect(hook.ran()).toEqual([expect.any(String), `config ${commit}`]);
      // One loop per app follows both remotes (spec-23): no separate config:slave process.
      const loops = await until("the app's loop in the process table", async () => {
        const now = loopsOf(fx!.node);
        return now.includes("git:slave") ? now : null;
      });
      expect(loops).toEqual(["git:slave"]);
    },
  );
});
