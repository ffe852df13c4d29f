import { describe, expect, test } from "bun:test";
import { ConfigFixture } from "../helpers/config-fixture.ts";
import { git } from "../helpers/fixture.ts";
import { startGitHttp } from "../helpers/git-http.ts";

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

const APP = { PROTOCOL_GIT_USERNAME: "app-user", PROTOCOL_GIT_PASSWORD: "app-token" };
const CONFIG = { PROTOCOL_CONFIG_GIT_USERNAME: "config-user", PROTOCOL_CONFIG_GIT_PASSWORD: "config-token" };

/**
 * Both remotes served over smart HTTP by one logging server on 127.0.0.1 (Bun.serve in front of
 * the real git http-backend): which Authorization header reached which remote.
 */
describe("credentials go only to the remote they belong to", () => {
  test("the app's token reaches the app remote only, the config repo's its own remote only", async () => {
    await using cf = await ConfigFixture.create({ clone: false });
    await using server = startGitHttp(cf.fx.root);
    await git(cf.node, "remote", "set-url", "origin", server.url("remote.git"));
    const env = { ...APP, ...CONFIG };

    const init = await cf.cli(["config:init", "--remote", server.url("config.git"), "--dir", cf.node], { env });
    expect(init.exitCode, init.stderr).toBe(0);
    const pushed = await cf.fx.push({ "app.txt": "v2\n" });
    const pull = await cf.cli(["git:pull", "--dir", cf.node], { env });
    expect(pull.exitCode, pull.stderr).toBe(0);
    expect(await cf.fx.head()).toBe(pushed);
    await cf.pushConfig({ ".env": "STAGE=1\n" }, "staging", "staging");
    const change = await cf.cli(["config:switch", "staging", "--dir", cf.node], { env });
    expect(change.exitCode, change.stderr).toBe(0);

    expect(server.credentialsFor("remote.git")).toEqual([basic("app-user", "app-token")]);
    expect(server.credentialsFor("config.git")).toEqual([basic("config-user", "config-token")]);
  });

  test("a config repo with no credentials of its own gets none, not the app's", async () => {
    await using cf = await ConfigFixture.create({ clone: false });
    await using server = startGitHttp(cf.fx.root);
    await git(cf.node, "remote", "set-url", "origin", server.url("remote.git"));

    const init = await cf.cli(["config:init", "--remote", server.url("config.git"), "--dir", cf.node], { env: APP });
    expect(init.exitCode, init.stderr).toBe(0);
    const pull = await cf.cli(["git:pull", "--dir", cf.node], { env: APP });
    expect(pull.exitCode, pull.stderr).toBe(0);

    expect(server.credentialsFor("remote.git")).toEqual([basic("app-user", "app-token")]);
    expect(server.credentialsFor("config.git")).toEqual([null]);
  });
});

describe("a token inside a remote URL", () => {
  test("works, but doctor and start warn and say how to pass it through the environment, without showing it", async () => {
    await using cf = await ConfigFixture.create();
    await using server = startGitHttp(cf.fx.root);
    const withToken = server.url("remote.git").replace("http://", "http://app-user:s3cret-token@");
    await git(cf.node, "remote", "set-url", "origin", withToken);
    await cf.cli(["cron:add", "--dir", cf.node]);

    const doctor = await cf.cli(["doctor", "--json", "--dir", cf.node], {
      fakeDocker: true,
      env: { FAKE_DOCKER_ROOT: cf.fx.root },
    });
    const checks = JSON.parse(doctor.stdout).checks as { name: string; ok: boolean; severity?: string; fix?: string }[];
    const credentials = checks.find((c) => c.name === "credentials");
    expect(credentials).toMatchObject({ ok: false, severity: "warning" });
    expect(credentials?.fix).toContain("PROTOCOL_GIT_USERNAME and PROTOCOL_GIT_PASSWORD");
    expect(credentials?.fix).toContain(`remote set-url origin '${server.url("remote.git")}'`);
    expect(checks.find((c) => c.name === "remote")?.ok).toBe(true);
    expect(doctor.stdout + doctor.stderr).not.toContain("s3cret-token");

    const start = await cf.cli(["start", "--dir", cf.node, "--no-cron", "--interval", "1"], { fakeDocker: true });
    expect(start.exitCode, start.stderr).toBe(0);
    expect(start.stderr).toContain("carries a password or token");
    expect(start.stderr).toContain("PROTOCOL_GIT_PASSWORD");
    expect(start.stdout + start.stderr).not.toContain("s3cret-token");
  });

  test("a clean remote URL passes the credentials check", async () => {
    await using cf = await ConfigFixture.create();
    const doctor = await cf.cli(["doctor", "--json", "--dir", cf.node], {
      fakeDocker: true,
      env: { FAKE_DOCKER_ROOT: cf.fx.root },
    });
    const checks = JSON.parse(doctor.stdout).checks as { name: string; ok: boolean }[];
    expect(checks.find((c) => c.name === "credentials")?.ok).toBe(true);
  });
});
