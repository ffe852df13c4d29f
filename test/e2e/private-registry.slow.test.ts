/**
 * Issue 17 end to end: an image in a registry that wants credentials (the real docker-registry with
 * htpasswd auth), and credentials only in a credential helper (fake, named in config.json's
 * credHelpers; the real docker CLI uses it too, for push and pull). protocol follows the floating
 * tag by digest through that helper: a new push recreates the container, no commit needed.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useDockerEnv } from "../helpers/docker-env.ts";
import { eventually, Fixture, sh } from "../helpers/fixture.ts";
import { type AuthRegistry, FAKE_CREDENTIAL_HELPER_DIR, startAuthRegistry } from "../helpers/registry-auth.ts";

const engine = await useDockerEnv();

describe("real engine, a private registry reached only through a credential helper", () => {
  let registry: AuthRegistry | undefined;
  let env: Record<string, string>;
  let helperLog: string;
  let fx: Fixture | undefined;
  const project = `e2e-${crypto.randomUUID().slice(0, 8)}`;
  const image = () => `${registry!.host}/e2e/private:latest`;

  beforeAll(async () => {
    if (!engine.ready) return;
    registry = await startAuthRegistry({ users: { robot: "helper-only-pw" } });
    const config = mkdtempSync(join(tmpdir(), "protocol-e2e-docker-config-"));
    writeFileSync(join(config, "config.json"), JSON.stringify({ credHelpers: { [registry.host]: "fake" } }));
    helperLog = join(config, "helper.log");
    env = {
      ...engine.env,
      DOCKER_CONFIG: config,
      PATH: `${FAKE_CREDENTIAL_HELPER_DIR}:${engine.env.PATH}`,
      FAKE_HELPER_CREDENTIALS: JSON.stringify({ [registry.host]: { Username: "robot", Secret: "helper-only-pw" } }),
      FAKE_HELPER_LOG: helperLog,
    };
  }, 60_000);
  afterAll(async () => {
    if (fx) {
      await fx.cli(["stop", "--dir", fx.node], { env });
      await engine.removeProject(project);
      await fx[Symbol.asyncDispose]();
    }
    await registry?.[Symbol.asyncDispose]();
  }, 60_000);

  /** Build VERSION under the tag and push it with the docker CLI (its credentials from the helper). */
  async function publish(version: string): Promise<string> {
    await engine.buildImage(
      image(),
      `FROM ${engine.baseImage}\nRUN echo ${version} > /version\nCMD ["sleep", "3600"]\n`,
    );
    const pushed = await sh(["docker", "push", "--quiet", image()], { env });
    if (pushed.exitCode !== 0) throw new Error(`docker push: ${pushed.stderr}`);
    return engine.dockerOk(["image", "inspect", "--format", "{{.Id}}", image()]);
  }

  engine.test(
    "follows the floating tag by digest with the helper's credentials: a new push recreates the container, without a commit",
    async () => {
      // Anonymous is refused: without the helper there is no way in.
      const anonymous = await fetch(`${registry!.url}/v2/e2e/private/manifests/latest`, { method: "HEAD" });
      expect(anonymous.status).toBe(401);
      const v1 = await publish("v1");
      fx = await Fixture.create({
        files: {
          // A short settle: the gate is not what this test is about (the converge tests are).
          "protocol.json": `${JSON.stringify({ name: project, docker: { project }, deploy: { settleSeconds: 2 } })}\n`,
          "docker-compose.yml": `version: "2.4"\nservices:\n  app:\n    image: ${image()}\n    stop_grace_period: 1s\n`,
        },
      });
      const started = await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"], { env });
      expect({ exitCode: started.exitCode, stderr: started.stderr }).toMatchObject({ exitCode: 0 });
      const containers = async () => (await engine.projectContainers(project)).filter((c) => c.running);
      expect((await containers())[0]?.image).toBe(v1);

      const v2 = await publish("v2");
      // The node's engine is the builder's: point the tag back at v1, as on a node that has not pulled.
      await engine.dockerOk(["tag", v1, image()]);
      expect(await eventually(async () => (await containers())[0]?.image === v2, 45_000, 250)).toBe(true);
      // The container is recreated before the deploy is recorded (after its health gate).
      const last = async () =>
        JSON.parse((await fx!.cli(["deploy:log", "--dir", fx!.node, "--json"], { env })).stdout).at(-1);
      expect(await eventually(async () => (await last()).reason === "image", 15_000)).toBe(true);
      expect(await last()).toMatchObject({ reason: "image", result: "deployed" });
      // protocol's digest check went through the helper, with the registry host on stdin and no secret in argv.
      const calls = existsSync(helperLog)
        ? readFileSync(helperLog, "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l))
        : [];
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) expect(call).toMatchObject({ argv: ["get"], stdin: registry!.host });
      expect(registry!.requests.some((r) => r.method === "HEAD" && r.authorization?.startsWith("Basic "))).toBe(true);
    },
    180_000,
  );
});
