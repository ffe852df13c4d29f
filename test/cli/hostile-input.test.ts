/**
 * Issue 11 (first part): values from elsewhere are checked at the boundary — a dir name that would
 * add a crontab line, branch names that are not branch names, an oversized protocol.json, a torn
 * registration, a broken protocol.json under status, a webhook URL that carries its token.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Fixture, git } from "../helpers/fixture.ts";
import { serveLoopback } from "../helpers/loopback.ts";

let fx: Fixture;
beforeEach(async () => (fx = await Fixture.create()));
afterEach(async () => fx[Symbol.asyncDispose]());

const crontab = () => (existsSync(fx.env.FAKE_CRONTAB!) ? readFileSync(fx.env.FAKE_CRONTAB!, "utf8") : "");

describe("values that reach a crontab or a refspec", () => {
  test("an app dir with a newline in its name is refused before anything runs; the crontab is untouched", async () => {
    const evil = join(fx.root, "x\n* * * * * touch /tmp/pwned\n#");
    await git(fx.root, "clone", "--quiet", fx.remote, evil);
    writeFileSync(fx.env.FAKE_CRONTAB!, "# mine\n");
    for (const args of [
      ["start", "--dir", evil, "--interval", "1"],
      ["cron:add", "--dir", evil],
    ]) {
      const run = await fx.cli(args);
      expect(run.exitCode).toBe(4);
      expect(run.stderr).toContain("contains a control character");
      expect(run.stderr.split("\n").filter(Boolean)).toHaveLength(2);
    }
    expect(crontab()).toBe("# mine\n");
    const status = JSON.parse((await fx.cli(["status", "--dir", evil, "--json"])).stdout);
    expect(status.slave.running).toBe(false);
  });

  test("a value with a newline in an error stays one line: it cannot forge a line of its own", async () => {
    const run = await fx.cli(["status", "--dir", join(fx.root, "gone\nerror: everything is fine\u001b[2J")]);
    expect(run.exitCode).toBe(4);
    const lines = run.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain("gone\\nerror: everything is fine\\u001b[2J does not exist");
  });

  test.each(["a:b", "a*b", "feature/..x", "-x", "ma in", "x.lock"])(
    "git.branch %j is refused as a config error",
    async (branch) => {
      writeFileSync(join(fx.node, "protocol.json"), JSON.stringify({ git: { branch } }));
      const run = await fx.cli(["git:pull", "--dir", fx.node]);
      expect(run.exitCode).toBe(3);
      expect(run.stderr).toContain("git.branch");
    },
  );
});

describe("size caps and torn files", () => {
  test("a protocol.json over 1 MB is refused unread, here and when a pushed commit carries one", async () => {
    const huge = JSON.stringify({ name: "app", padding: "x".repeat(2 * 1024 * 1024) });
    writeFileSync(join(fx.node, "protocol.json"), huge);
    const local = await fx.cli(["git:pull", "--dir", fx.node]);
    expect(local.exitCode).toBe(3);
    expect(local.stderr).toContain("may be at most 1 MB");

    const clean = join(fx.root, "clean");
    await git(fx.root, "clone", "--quiet", fx.remote, clean);
    const before = await git(clean, "rev-parse", "HEAD");
    await fx.push({ "protocol.json": huge });
    const incoming = await fx.cli(["git:pull", "--dir", clean, "--json"]);
    expect(incoming.exitCode).not.toBe(0);
    expect(JSON.parse(incoming.stdout).error).toContain("may be at most 1 MB");
    expect(await git(clean, "rev-parse", "HEAD")).toBe(before);
  });

  test("restart exits non-zero when a registered node's app.json is torn, and names it", async () => {
    expect((await fx.cli(["start", "--dir", fx.node, "--interval", "1", "--no-cron"])).exitCode).toBe(0);
    expect((await fx.cli(["stop", "--dir", fx.node])).exitCode).toBe(0);
    const apps = join(fx.env.PROTOCOL_HOME!, "apps");
    const [key] = new Bun.Glob("*/app.json").scanSync(apps);
    writeFileSync(join(apps, key!), '{"dir": "/srv/ap');
    const run = await fx.cli(["restart"]);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain(`the registration ${join(apps, key!)} cannot be read`);
  });

  test("a torn status file is rebuilt from what can be known, with a warning; the sync goes on", async () => {
    expect((await fx.cli(["git:pull", "--dir", fx.node])).exitCode).toBe(0);
    const [file] = new Bun.Glob("*/status.json").scanSync(join(fx.env.PROTOCOL_HOME!, "apps"));
    const path = join(fx.env.PROTOCOL_HOME!, "apps", file!);
    writeFileSync(path, '{"lastSync": {"at": "2026-');
    const pushed = await fx.push({ "b.txt": "b\n" });
    const run = await fx.cli(["git:pull", "--dir", fx.node]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain(`ignoring unreadable state file ${path}; it will be rewritten`);
    expect(await fx.head()).toBe(pushed);
    const status = JSON.parse((await fx.cli(["status", "--dir", fx.node, "--json"])).stdout);
    expect(status).toMatchObject({ localCommit: pushed, remoteCommit: pushed });
    expect(JSON.parse(readFileSync(path, "utf8")).lastSync.result).toBe("deployed");
  });

  test("status on a node with a broken protocol.json prints what it knows, then the error, and exits 3", async () => {
    expect((await fx.cli(["git:pull", "--dir", fx.node])).exitCode).toBe(0);
    writeFileSync(join(fx.node, "protocol.json"), "{ not json");
    const human = await fx.cli(["status", "--dir", fx.node]);
    expect(human.exitCode).toBe(3);
    expect(human.stdout).toContain(fx.node);
    expect(human.stdout).toMatch(/last sync\s+deployed/);
    expect(human.stderr).toContain("is not valid JSON");
    const json = await fx.cli(["status", "--dir", fx.node, "--json"]);
    expect(json.exitCode).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ localCommit: await fx.head() });
    expect(JSON.parse(json.stdout).configError).toContain("is not valid JSON");
  });
});

describe("secrets stay out of logs", () => {
  test("a failing webhook whose URL path is its token is logged by scheme and host only", async () => {
    await using hook = serveLoopback(() => new Response("nope", { status: 500 }));
    const url = `${hook.url}/services/T0K3N-SECRET`;
    mkdirSync(fx.node, { recursive: true });
    writeFileSync(join(fx.node, "protocol.json"), JSON.stringify({ notify: { webhook: url } }));
    const run = await fx.cli(["git:pull", "--dir", fx.node]);
    expect(hook.requests.length).toBeGreaterThan(0);
    expect(run.stderr).toContain("notify.webhook failed");
    expect(run.stderr).not.toContain("T0K3N");
  });
});

describe("answers from elsewhere are not read whole", () => {
  test("a webhook that answers with an endless body does not hold the sync: the answer is never read", async () => {
    let sent = 0;
    const chunk = new Uint8Array(64 * 1024).fill(120);
    await using hook = serveLoopback(
      () =>
        new Response(
          new ReadableStream({
            pull(controller) {
              sent += chunk.byteLength;
              controller.enqueue(chunk);
            },
          }),
        ),
    );
    writeFileSync(join(fx.node, "protocol.json"), JSON.stringify({ notify: { webhook: `${hook.url}/hook` } }));
    await fx.push({ "protocol.json": JSON.stringify({ notify: { webhook: `${hook.url}/hook` } }) });
    const run = await fx.cli(["git:pull", "--dir", fx.node, "--on-dirty=stash"]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(hook.requests.length).toBeGreaterThan(0);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });
});
