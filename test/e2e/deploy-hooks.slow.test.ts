/**
 * Issue 18 end to end: deploy hooks against a real engine (compose v1) with a busybox service: a
 * service step gets the deploy's facts through `compose exec -T -e NAME` (no value in argv), an
 * afterUp step that fails rolls the deploy back and afterRollback runs, a failing beforeMove leaves
 * the working copy and the container alone.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { useDockerEnv } from "../helpers/docker-env.ts";
import { eventually, Fixture } from "../helpers/fixture.ts";

const engine = await useDockerEnv();
const image = () => `${engine.registry}/e2e/hooks:latest`;

describe("real engine, deploy hooks", () => {
  let fx: Fixture | undefined;
  const project = `e2e-${crypto.randomUUID().slice(0, 8)}`;
  const compose = () => `version: "2.4"\nservices:\n  app:\n    image: ${image()}\n    stop_grace_period: 1s\n`;

  beforeAll(async () => {
    if (!engine.ready) return;
    await engine.buildImage(
      image(),
      `FROM ${engine.baseImage}\nCMD ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]\n`,
    );
    await engine.pushImage(image());
  }, 60_000);
  afterAll(async () => {
    if (!fx) return;
    await fx.cli(["stop", "--dir", fx.node], { env: engine.env });
    await engine.removeProject(project);
    await fx[Symbol.asyncDispose]();
  }, 60_000);

  const protocolJson = (hooks: Record<string, unknown>) =>
    `${JSON.stringify({ name: project, docker: { project }, deploy: { hooks, settleSeconds: 2 } })}\n`;
  const deploys = async () => JSON.parse((await fx!.cli(["deploy:log", "--dir", fx!.node, "--json"])).stdout);
  const container = async () => (await engine.projectContainers(project)).find((c) => c.running);

  engine.test(
    "a service step gets PROTOCOL_TO through compose exec; a failing afterUp rolls back and afterRollback runs; a failing beforeMove changes nothing",
    async () => {
      fx = await Fixture.create();
      const rolledBack = join(fx.root, "rolled-back");
      const good = await fx.push({
        "protocol.json": protocolJson({
          afterUp: [{ service: "app", run: ["sh", "-c", 'echo "$PROTOCOL_TO" > /tmp/deployed'] }],
          afterRollback: [{ run: ["sh", "-c", `echo "$PROTOCOL_TO" > '${rolledBack}'`] }],
        }),
        "docker-compose.yml": compose(),
      });
      const started = await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"], { env: engine.env });
      expect({ exitCode: started.exitCode, stderr: started.stderr }).toMatchObject({ exitCode: 0 });
      const running = await container();
      expect(await engine.dockerOk(["exec", running!.id, "cat", "/tmp/deployed"])).toBe(good);

      // A commit whose afterUp fails: rolled back for real, afterRollback ran with the good commit.
      const bad = await fx.push(
        {
          "protocol.json": protocolJson({
            afterUp: [{ run: ["sh", "-c", "exit 3"] }],
            afterRollback: [{ run: ["sh", "-c", `echo "$PROTOCOL_TO" > '${rolledBack}'`] }],
          }),
        },
        "a failing migration",
      );
      expect(await eventually(async () => (await deploys()).at(-1)?.to === bad, 60_000, 250)).toBe(true);
      expect((await deploys()).at(-1)).toMatchObject({ result: "rolled-back", rolledBackTo: good });
      expect(await fx.head()).toBe(good);
      expect(existsSync(rolledBack) && readFileSync(rolledBack, "utf8").trim()).toBe(good);
      expect(await container()).toBeTruthy();

      // beforeMove is the incoming commit's own: a drain that fails keeps that commit out, nothing changes.
      const before = await container();
      const draining = await fx.push(
        { "protocol.json": protocolJson({ beforeMove: [{ run: ["sh", "-c", "exit 4"] }] }) },
        "drain fails",
      );
      expect(await eventually(async () => (await deploys()).at(-1)?.to === draining, 30_000, 250)).toBe(true);
      expect((await deploys()).at(-1)).toMatchObject({
        result: "error",
        hooks: [{ point: "beforeMove", exitCode: 4 }],
      });
      expect(await fx.head()).toBe(good);
      expect((await container())?.id).toBe(before?.id);
      // A push can fix what a push broke: the commit with a drain that passes deploys.
      const fixed = await fx.push(
        { "protocol.json": protocolJson({ beforeMove: [{ run: ["true"] }] }) },
        "drain fixed",
      );
      expect(
        await eventually(
          async () => (await deploys()).at(-1)?.to === fixed && (await deploys()).at(-1)?.result === "deployed",
          60_000,
          250,
        ),
      ).toBe(true);
      expect(await fx.head()).toBe(fixed);
    },
    180_000,
  );

  engine.test(
    "a service step with env: app gets the .env values with no value in any argv (ps sampled while it runs); a host step past its timeout dies with its child",
    async () => {
      const app = await Fixture.create();
      const own = `e2e-${crypto.randomUUID().slice(0, 8)}`;
      const child = join(app.root, "child.pid");
      const hooks = {
        afterUp: [
          { service: "app", run: ["sh", "-c", 'sleep 2; echo "$APP_SECRET" > /tmp/secret'], env: "app" },
          // Slow only once armed (the second deploy): it starts a child and outlives its timeout.
          {
            run: ["sh", "-c", `[ -f '${child}.armed' ] || exit 0; sleep 300 & echo $! > '${child}'; sleep 300`],
            timeout: 2,
          },
        ],
      };
      try {
        await app.push({
          ".gitignore": ".env\n",
          "protocol.json": `${JSON.stringify({ name: own, docker: { project: own }, deploy: { hooks, settleSeconds: 2 } })}\n`,
          "docker-compose.yml": compose(),
        });
        await app.cli(["git:pull", "--dir", app.node], { env: engine.env });
        await Bun.write(join(app.node, ".env"), "APP_SECRET=e2e-hunter2\n");
        await Bun.write(`${child}.armed`, "");
        // Sample every process's argv while the hooks run: the secret must never be in one.
        const sampling = (async () => {
          const found: string[] = [];
          for (let i = 0; i < 50; i++) {
            const ps = Bun.spawnSync(["ps", "-eo", "args"]).stdout.toString();
            found.push(...ps.split("\n").filter((line) => line.includes("e2e-hunter2")));
            await Bun.sleep(100);
          }
          return found;
        })();
        await app.push({ "app.txt": "v2\n" }, "v2");
        const pulled = await app.cli(["git:pull", "--dir", app.node], { env: engine.env });
        expect(await sampling).toEqual([]);
        expect(pulled.stderr).toContain("killed after 2s (its timeout), with its process group");
        const pid = Number(readFileSync(child, "utf8"));
        const dead = () =>
          !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/status`, "utf8").includes("State:\tZ");
        expect(await eventually(dead, 10_000)).toBe(true);
        const running = (await engine.projectContainers(own)).find((c) => c.running);
        expect(await engine.dockerOk(["exec", running!.id, "cat", "/tmp/secret"])).toBe("e2e-hunter2");
      } finally {
        await engine.removeProject(own);
        await app[Symbol.asyncDispose]();
      }
    },
    180_000,
  );
});
