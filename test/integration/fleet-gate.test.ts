/**
 * Issue 15, the rollout gate in one node's sync (in-process, real git; the status remote over
 * smart HTTP so its reads are counted): a held commit is notified once and re-read at the waves'
 * pace, and going back is never staged.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadApp } from "../../src/lib/app/app.ts";
import { readNodeState } from "../../src/lib/app/state.ts";
import { fleetRef, pushRef, scratchRepo, writeRecordCommit } from "../../src/lib/fleet/refs.ts";
import { wavePlace } from "../../src/lib/fleet/waves.ts";
import { runPass } from "../../src/lib/node/pass.ts";
import { Fixture, git } from "../helpers/fixture.ts";
import { type GitHttpServer, startGitHttp } from "../helpers/git-http.ts";
import { type Loopback, serveLoopback } from "../helpers/loopback.ts";

const ROLLOUT = { waves: [1, 100], waveSeconds: 1 };
const NODE = "web-7";
let fx: Fixture;
let server: GitHttpServer;
let hooks: Loopback;
let statusUrl: string;
const saved = { ...process.env };

beforeEach(async () => {
  fx = await Fixture.create();
  mkdirSync(join(fx.root, "srv"));
  const bare = join(fx.root, "srv", "status.git");
  await git(fx.root, "init", "--quiet", "--bare", bare);
  await git(bare, "config", "http.receivepack", "true");
  server = startGitHttp(join(fx.root, "srv"));
  hooks = serveLoopback(() => new Response("ok"));
  statusUrl = server.url("status.git");
  await fx.push({
    "protocol.json": JSON.stringify({
      rollout: { ...ROLLOUT, statusRemote: statusUrl },
      notify: { webhook: `${hooks.url}/hook` },
    }),
  });
  process.env.PROTOCOL_NODE_ID = NODE;
  now = Date.now();
  expect(wavePlace(NODE, ROLLOUT).wave).toBe(2);
});
afterEach(async () => {
  process.env = { ...saved };
  await server[Symbol.asyncDispose]();
  await hooks[Symbol.asyncDispose]();
  await fx[Symbol.asyncDispose]();
});

/** The clock the gate decides by: moved on by the test, never slept out. */
let now = Date.now();
const sync = () => runPass(loadApp(fx.node), { command: "test", intervalSeconds: 1, clock: () => now });
/** The commit that brings the rollout is staged by it too (its own protocol.json governs): taken at once, as git:pull --now does. */
const deployNow = () => runPass(loadApp(fx.node), { command: "test", rollout: false });

/** Another node's record, as it would push it. */
async function reportFrom(node: string, commit: string, result: string): Promise<void> {
  const ctx = await scratchRepo(statusUrl, join(fx.root, "other"));
  const record = {
    node,
    env: "default",
    app: "app",
    commit,
    running: null,
    result,
    at: new Date().toISOString(),
    wave: 1,
    version: "test",
  };
  await pushRef(ctx, statusUrl, fleetRef("default", node), await writeRecordCommit(ctx, record, "x"));
}

/** Sync until the wave's time has come (the first sync sees the commit; the clock moves on in 200 ms steps). */
async function syncPastTheWave() {
  let outcome = await sync();
  while (outcome.result === "waiting" && !outcome.error?.startsWith("waiting for the fleet record")) {
    now += 200;
    outcome = await sync();
  }
  return outcome;
}

describe("the rollout gate", () => {
  test("a commit a canary failed is held: one webhook, one held record, and the record is read again only at the waves' pace", async () => {
    expect((await deployNow()).result).toBe("deployed");
    const bad = await fx.push({ "bad.txt": "x\n" }, "bad");
    await reportFrom("web-1", bad, "rolled-back");
    const held = await syncPastTheWave();
    expect(held.result).toBe("held");
    expect(held.error).toStartWith(`held: canary web-1 failed ${bad.slice(0, 8)} at `);
    const reads = server.refsRequests("status.git");
    for (let i = 0; i < 3; i++) expect((await sync()).result).toBe("held");
    // Within the re-check time, no new read of the record (the held record's push is a receive-pack).
    const readsOnly = () =>
      server.requests.filter((r) => r.path.endsWith("/info/refs") && !r.path.includes("receive")).length;
    expect(server.refsRequests("status.git")).toBeGreaterThanOrEqual(reads);
    const before = readsOnly();
    await sync();
    expect(readsOnly()).toBe(before);
    now += 1100;
    await sync();
    expect(readsOnly()).toBeGreaterThan(before);
    const events = hooks.requests.map((r) => JSON.parse(r.body).event);
    expect(events.filter((e: string) => e === "held")).toHaveLength(1);
    expect(await fx.head()).not.toBe(bad);
    // The next commit goes through.
    const fix = await fx.push({ "fix.txt": "x\n" }, "fix");
    expect((await syncPastTheWave()).result).toBe("deployed");
    expect(await fx.head()).toBe(fix);
  });

  test("going back (the remote rewound to a commit the node ran) is never staged", async () => {
    expect((await deployNow()).result).toBe("deployed");
    const good = await fx.head();
    await fx.push({ "next.txt": "x\n" }, "next");
    expect((await syncPastTheWave()).result).toBe("deployed");
    await git(fx.seed, "push", "--quiet", "--force", "origin", `${good}:main`);
    const back = await sync();
    expect(back.result).toBe("deployed");
    expect(await fx.head()).toBe(good);
    expect(readNodeState(loadApp(fx.node).paths.status).lastSync?.result).toBe("deployed");
  });

  test("a later wave never deploys a commit it could not check: the fleet record unreadable, the node waits", async () => {
    expect((await deployNow()).result).toBe("deployed");
    const deployed = await fx.head();
    // The status remote goes away: nothing answers there any more.
    await server[Symbol.asyncDispose]();
    const next = await fx.push({ "next.txt": "x\n" }, "next");
    const outcome = await syncPastTheWave();
    expect(outcome.result).toBe("waiting");
    expect(outcome.error).toStartWith("waiting for the fleet record (wave 2 deploys only once");
    now += 5_000;
    expect((await sync()).result).toBe("waiting");
    expect(await fx.head()).toBe(deployed);
    expect(await fx.head()).not.toBe(next);
    server = startGitHttp(join(fx.root, "srv"));
  });
});
