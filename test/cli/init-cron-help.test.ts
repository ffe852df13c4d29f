import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Fixture } from "../helpers/fixture.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create({ nodeName: "my app" })));
afterEach(async () => fx[Symbol.asyncDispose]());

const crontab = () => (existsSync(fx.env.FAKE_CRONTAB!) ? readFileSync(fx.env.FAKE_CRONTAB!, "utf8") : "");

describe("init", () => {
  test("--yes writes protocol.json from the repo's remote and branch", async () => {
    writeFileSync(join(fx.node, "docker-compose.yml"), "services: {}\n");
    const run = await fx.cli(["init", "--dir", fx.node, "--yes"]);
    expect(run.exitCode).toBe(0);
    const written = JSON.parse(readFileSync(join(fx.node, "protocol.json"), "utf8"));
    expect(written).toMatchObject({
      name: "my-app",
      git: { remote: fx.remote, branch: "main", remotename: "origin" },
      docker: { compose: "docker-compose.yml" },
    });
  });

  test("without a TTY and without --yes it asks for --yes and writes nothing", async () => {
    const run = await fx.cli(["init", "--dir", fx.node]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("--yes");
    expect(existsSync(join(fx.node, "protocol.json"))).toBe(false);
  });

  test("refuses to replace protocol.json; --force keeps a backup", async () => {
    writeFileSync(join(fx.node, "protocol.json"), '{"name":"mine"}\n');
    const refused = await fx.cli(["init", "--dir", fx.node, "--yes"]);
    expect(refused.exitCode).toBe(4);
    expect(readFileSync(join(fx.node, "protocol.json"), "utf8")).toBe('{"name":"mine"}\n');
    const forced = await fx.cli(["init", "--dir", fx.node, "--yes", "--force", "--json"]);
    expect(forced.exitCode).toBe(0);
    const { backup } = JSON.parse(forced.stdout);
    expect(readFileSync(backup, "utf8")).toBe('{"name":"mine"}\n');
  });

  test("a remote URL with credentials is written without them", async () => {
    await Bun.$`git -C ${fx.node} remote set-url origin https://deploy:s3cret@git.example.com/app.git`.quiet();
    await fx.cli(["init", "--dir", fx.node, "--yes"]);
    const text = readFileSync(join(fx.node, "protocol.json"), "utf8");
    expect(text).not.toContain("s3cret");
    expect(text).toContain("https://git.example.com/app.git");
  });
});

describe("cron:add / cron:remove (fake crontab)", () => {
  test("adds one @reboot line inside a marked block, keeps foreign lines, and is idempotent", async () => {
    writeFileSync(fx.env.FAKE_CRONTAB!, "MAILTO=ops@example.com\n*/5 * * * * /usr/local/bin/backup\n");
    expect((await fx.cli(["cron:add", "--dir", fx.node])).exitCode).toBe(0);
    const once = crontab();
    expect((await fx.cli(["cron:add", "--dir", fx.node])).exitCode).toBe(0);
    expect(crontab()).toBe(once);
    expect(once).toStartWith("MAILTO=ops@example.com\n*/5 * * * * /usr/local/bin/backup\n# BEGIN protocol");
    expect(once.match(/@reboot/g)).toHaveLength(1);
    expect(once).toContain(`restart '${fx.node}'`);
    expect(once).toContain(`PROTOCOL_HOME='${fx.env.PROTOCOL_HOME}'`);
  });

  test("saves the previous crontab before changing it", async () => {
    writeFileSync(fx.env.FAKE_CRONTAB!, "# mine\n");
    await fx.cli(["cron:add", "--dir", fx.node]);
    const backups = join(fx.env.PROTOCOL_HOME!, "crontab-backups");
    const files = readdirSync(backups);
    expect(files).toHaveLength(1);
    expect(readFileSync(join(backups, files[0]!), "utf8")).toBe("# mine\n");
  });

  test("cron:remove takes out only this app's line and the empty block", async () => {
    writeFileSync(fx.env.FAKE_CRONTAB!, "# mine\n");
    await fx.cli(["cron:add", "--dir", fx.node]);
    expect((await fx.cli(["cron:remove", "--dir", fx.node])).exitCode).toBe(0);
    expect(crontab()).toBe("# mine\n");
    const again = await fx.cli(["cron:remove", "--dir", fx.node, "--json"]);
    expect(JSON.parse(again.stdout).changed).toBe(false);
  });
});

describe("help", () => {
  test("every command listed has --help with a usage line and exits 0", async () => {
    const list = await fx.cli(["list", "--json"]);
    const commands: { name: string; description: string }[] = JSON.parse(list.stdout);
    expect(commands.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        "init",
        "start",
        "stop",
        "restart",
        "status",
        "deploy:log",
        "git:pull",
        "git:slave",
        "git:slave:stop",
        "cron:add",
        "cron:remove",
        "list",
        "help",
      ]),
    );
    for (const { name, description } of commands) {
      expect(description.length).toBeGreaterThan(0);
      const run = await fx.cli([name, "--help"]);
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toContain(`USAGE protocol ${name}`);
    }
    const help = await fx.cli(["help", "git:pull"]);
    expect(help.stdout).toContain("--on-dirty");
  });

  test("--version prints the version", async () => {
    const run = await fx.cli(["--version"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
