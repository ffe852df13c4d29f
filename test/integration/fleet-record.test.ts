/**
 * Issue 15, the fleet record against real git: one ls-remote per read and a fetch of only what
 * changed (counted at a smart-HTTP server), hostile records, and a push that fails and is retried.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadApp } from "../../src/lib/app/app.ts";
import { readNodeState, updateNodeState } from "../../src/lib/app/state.ts";
import { readFleet } from "../../src/lib/fleet/records.ts";
import { fleetRef, freezeRef, pushRef, scratchRepo, writeRecordCommit } from "../../src/lib/fleet/refs.ts";
import { flushReport, queueReport } from "../../src/lib/fleet/report.ts";
import { fleetReport, renderFleet } from "../../src/lib/fleet/view.ts";
import type { FleetRecord } from "../../src/lib/schema/fleet.ts";
import { git, sh } from "../helpers/fixture.ts";
import { startGitHttp } from "../helpers/git-http.ts";

const A = "a".repeat(40);
let root: string;
let status: string;
beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "fleet-record-"));
  status = join(root, "srv", "status.git");
  mkdirSync(join(root, "srv"));
  await git(root, "init", "--quiet", "--bare", status);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const record = (node: string, extra: Partial<FleetRecord> = {}): FleetRecord => ({
  node,
  env: "production",
  app: "shop",
  commit: A,
  running: A,
  result: "deployed",
  at: new Date().toISOString(),
  wave: 1,
  dueAt: null,
  error: null,
  version: "test",
  machine: null,
  conflict: null,
  ...extra,
});

/** Write a record the way a node does (its own scratch repo, a push to the status remote). */
async function write(url: string, ref: string, data: unknown): Promise<void> {
  const ctx = await scratchRepo(url, join(root, "writer"));
  await pushRef(ctx, url, ref, await writeRecordCommit(ctx, data, "test"));
}

describe("reading the fleet record", () => {
  test("one ls-remote per read; only the records that changed are fetched", async () => {
    for (const node of ["web-1", "web-2", "web-3"]) await write(status, fleetRef("production", node), record(node));
    await using server = startGitHttp(join(root, "srv"));
    const url = server.url("status.git");
    const first = (await readFleet(url, "production")).get("production")!;
    expect(first.records.map((r) => r.node)).toEqual(["web-1", "web-2", "web-3"]);
    // ls-remote, then one fetch of the three records.
    expect(server.refsRequests("status.git")).toBe(2);
    await readFleet(url, "production");
    expect(server.refsRequests("status.git")).toBe(3);
    await write(status, fleetRef("production", "web-2"), record("web-2", { result: "rolled-back" }));
    const changed = (await readFleet(url, "production")).get("production")!;
    expect(changed.records.find((r) => r.node === "web-2")?.result).toBe("rolled-back");
    expect(server.refsRequests("status.git")).toBe(5);
  });

  test("the status remote gets the fleet credentials (PROTOCOL_FLEET_GIT_*), never the app's", async () => {
    await write(status, fleetRef("production", "web-1"), record("web-1"));
    await using server = startGitHttp(join(root, "srv"));
    const saved = { ...process.env };
    Object.assign(process.env, {
      PROTOCOL_FLEET_GIT_USERNAME: "fleet",
      PROTOCOL_FLEET_GIT_PASSWORD: "fleet-secret",
      PROTOCOL_GIT_USERNAME: "app",
      PROTOCOL_GIT_PASSWORD: "app-secret",
    });
    try {
      await readFleet(server.url("status.git"), "production");
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    }
    expect(server.credentialsFor("status.git")).toEqual([`Basic ${btoa("fleet:fleet-secret")}`]);
  });

  test("hostile records are ignored and listed: not JSON, over 4 KB, naming another node; an unreadable freeze still freezes", async () => {
    await write(status, fleetRef("production", "good"), record("good"));
    await write(status, fleetRef("production", "liar"), record("someone-else"));
    await write(status, fleetRef("production", "huge"), { ...record("huge"), padding: "x".repeat(10_000) });
    await write(status, freezeRef("production"), { nonsense: true });
    // Not JSON at all: a commit made by hand.
    const hand = join(root, "hand");
    await git(root, "init", "--quiet", hand);
    writeFileSync(join(hand, "record.json"), "{not json");
    await git(hand, "add", "record.json");
    await git(hand, "commit", "--quiet", "-m", "garbage");
    await git(hand, "push", "--quiet", status, "HEAD:refs/protocol/fleet/production/garbage");
    const view = (await readFleet(status, "production")).get("production")!;
    expect(view.records.map((r) => r.node)).toEqual(["good"]);
    expect(view.ignored.map(({ ref, why }) => `${ref}: ${why}`).sort()).toEqual([
      "refs/protocol/fleet/production/garbage: record.json is not JSON",
      "refs/protocol/fleet/production/huge: record.json is 10.1 KiB, over the 4.0 KiB cap: not read, not kept",
      'refs/protocol/fleet/production/liar: its record names node "someone-else", not liar',
    ]);
    expect(view.freeze?.reason).toBe("(unreadable freeze record)");
  });

  test("a 5 MB record is refused by node and why, never kept in the scratch repo, and not fetched again", async () => {
    await write(status, fleetRef("production", "good"), record("good"));
    // A hostile node's record, made by hand: 5 MB of random bytes as record.json.
    const blobFile = join(root, "blob");
    writeFileSync(blobFile, crypto.getRandomValues(new Uint8Array(5 * 1024 * 1024)));
    const blob = (await git(status, "hash-object", "-w", blobFile)).trim();
    const tree = (
      await sh(["git", "mktree"], { cwd: status, input: `100644 blob ${blob}\trecord.json\n` })
    ).stdout.trim();
    const commit = (await git(status, "commit-tree", tree, "-m", "huge")).trim();
    await git(status, "update-ref", fleetRef("production", "huge"), commit);
    await using server = startGitHttp(join(root, "srv"));
    const url = server.url("status.git");
    const view = (await readFleet(url, "production")).get("production")!;
    expect(view.records.map((r) => r.node)).toEqual(["good"]);
    expect(view.ignored).toEqual([
      {
        ref: "refs/protocol/fleet/production/huge",
        node: "huge",
        why: "record.json is 5.0 MiB, over the 4.0 KiB cap: not read, not kept",
      },
    ]);
    expect(renderFleet(fleetReport(new Map([["production", view]]), Date.now(), 600_000), url)).toContain(
      "ignored the record of node huge (refs/protocol/fleet/production/huge): record.json is 5.0 MiB, over the 4.0 KiB cap: not read, not kept",
    );
    const scratch = (await scratchRepo(url)).dir;
    for (const object of [blob, commit])
      expect((await sh(["git", "cat-file", "-e", object], { cwd: scratch })).exitCode).not.toBe(0);
    // The throwaway repo it came through is gone too.
    expect(readdirSync(scratch).filter((name) => name.startsWith("incoming-"))).toEqual([]);
    const refs = server.refsRequests("status.git");
    const again = (await readFleet(url, "production")).get("production")!;
    // One ls-remote and no fetch: the refused commit is remembered while the ref points at it.
    expect(server.refsRequests("status.git")).toBe(refs + 1);
    expect(again.ignored).toEqual(view.ignored);
  });

  test("a status remote that does not answer is a network error naming it", async () => {
    await expect(readFleet("git://127.0.0.1:1/status.git", "production")).rejects.toThrow(
      /git:\/\/127\.0\.0\.1:1\/status\.git is unreachable/,
    );
  });
});

describe("pushing this node's record", () => {
  function appWith(statusRemote: string) {
    const dir = join(root, "app");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "protocol.json"), JSON.stringify({ name: "shop", rollout: { statusRemote } }));
    return loadApp(dir);
  }

  test("a record push is one request while the node is its ref's only writer (the last push is its lease)", async () => {
    await git(status, "config", "http.receivepack", "true");
    await using server = startGitHttp(join(root, "srv"));
    const app = appWith(server.url("status.git"));
    process.env.PROTOCOL_NODE_ID = "web-1";
    try {
      for (const result of ["deployed", "failed", "deployed"] as const) {
        queueReport(app, { commit: A, running: A, result });
        updateNodeState(app.paths.status, {
          fleetReport: { ...readNodeState(app.paths.status).fleetReport!, nextAt: 0 },
        });
        const before = server.refsRequests("status.git");
        await flushReport(app);
        expect(readNodeState(app.paths.status).fleetReport).toBeNull();
        expect(server.refsRequests("status.git")).toBe(before + 1);
      }
      expect(readNodeState(app.paths.status).fleetConflict).toBeNull();
    } finally {
      delete process.env.PROTOCOL_NODE_ID;
    }
  });
  test("a push that fails stays queued with its error and a backoff; once the remote answers it goes out", async () => {
    const down = appWith("git://127.0.0.1:1/status.git");
    process.env.PROTOCOL_NODE_ID = "web-9";
    try {
      queueReport(down, { commit: A, running: null, result: "rolled-back" });
      await flushReport(down);
      const queued = readNodeState(down.paths.status).fleetReport!;
      expect(queued.failures).toBe(1);
      expect(queued.error).toContain("unreachable");
      expect(queued.nextAt).toBeGreaterThan(Date.now());
      // Not due yet: nothing is tried.
      await flushReport(down);
      expect(readNodeState(down.paths.status).fleetReport!.failures).toBe(1);
      const up = appWith(status);
      updateNodeState(up.paths.status, { fleetReport: { ...queued, nextAt: 0 } });
      await flushReport(up);
      expect(readNodeState(up.paths.status).fleetReport).toBeNull();
      const view = (await readFleet(status, "default")).get("default")!;
      expect(view.records).toMatchObject([{ node: "web-9", result: "rolled-back", commit: A }]);
    } finally {
      delete process.env.PROTOCOL_NODE_ID;
    }
  });
});

describe("one node id on two machines", () => {
  test("each push finds the other machine's record: the record, the state and the log say so; alone again, it clears", async () => {
    const dir = join(root, "app");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "protocol.json"), JSON.stringify({ name: "shop", rollout: { statusRemote: status } }));
    const saved = process.env.PROTOCOL_HOME;
    process.env.PROTOCOL_NODE_ID = "web-1";
    // Two machines: two state dirs (each its own random machine id), one PROTOCOL_NODE_ID.
    const push = async (machine: string) => {
      process.env.PROTOCOL_HOME = join(root, machine);
      const app = loadApp(dir);
      queueReport(app, { commit: A, running: A, result: "deployed" });
      updateNodeState(app.paths.status, {
        fleetReport: { ...readNodeState(app.paths.status).fleetReport!, nextAt: 0 },
      });
      await flushReport(app);
      const view = (await readFleet(status, "default")).get("default")!;
      return { state: readNodeState(app.paths.status), record: view.records[0]! };
    };
    try {
      const first = await push("machine-a");
      expect(first.record.machine).toMatch(/\/[0-9a-f]{12}$/);
      expect(first.record.conflict).toBeNull();
      const second = await push("machine-b");
      expect(second.record.machine).not.toBe(first.record.machine);
      expect(second.record.conflict).toEqual({ machine: first.record.machine!, at: first.record.at });
      expect(second.state.fleetConflict).toMatchObject({ node: "web-1", machine: first.record.machine! });
      const lines = renderFleet(fleetReport(await readFleet(status, "default"), Date.now(), 600_000), status);
      expect(lines.find((line) => line.startsWith("web-1"))).toContain(
        `two machines: also reported from ${first.record.machine}`,
      );
      // Machine a again: it finds b's record.
      expect((await push("machine-a")).record.conflict?.machine).toBe(second.record.machine!);
      // And once more with no one in between: its own record, no conflict.
      const alone = await push("machine-a");
      expect(alone.record.conflict).toBeNull();
      expect(alone.state.fleetConflict).toBeNull();
    } finally {
      process.env.PROTOCOL_HOME = saved;
      delete process.env.PROTOCOL_NODE_ID;
    }
  });
});

describe("a status remote on a bad day", () => {
  test("one that accepts and then says nothing is given up after a quarter of the network timeout, and the record stays queued", async () => {
    const { startGitDaemon, startProxy } = await import("../helpers/git-daemon.ts");
    await using daemon = await startGitDaemon(join(root, "srv"), { push: true });
    await using stalled = await startProxy(daemon.port, { stallAfter: 0 });
    const dir = join(root, "app");
    mkdirSync(dir);
    writeFileSync(
      join(dir, "protocol.json"),
      JSON.stringify({ rollout: { statusRemote: `git://127.0.0.1:${stalled.port}/status.git` } }),
    );
    const app = loadApp(dir);
    process.env.PROTOCOL_NETWORK_TIMEOUT = "8";
    try {
      queueReport(app, { commit: A, running: A, result: "deployed" });
      updateNodeState(app.paths.status, {
        fleetReport: { ...readNodeState(app.paths.status).fleetReport!, nextAt: 0 },
      });
      await flushReport(app);
    } finally {
      delete process.env.PROTOCOL_NETWORK_TIMEOUT;
    }
    expect(readNodeState(app.paths.status).fleetReport?.error).toContain("nothing received for 2s");
  });

  test("a first read of a big fleet (more than 200 changed records) fetches by pattern and reads them all", async () => {
    const ctx = await scratchRepo(status, join(root, "writer"));
    const refspecs: string[] = [];
    for (let i = 0; i < 210; i++)
      refspecs.push(`${await writeRecordCommit(ctx, record(`web-${i}`), "x")}:${fleetRef("production", `web-${i}`)}`);
    await git(ctx.dir, "push", "--quiet", status, ...refspecs);
    const view = (await readFleet(status, "production")).get("production")!;
    expect(view.records).toHaveLength(210);
    expect(view.ignored).toEqual([]);
  });

  test("a bad PROTOCOL_NODE_ID loses the record with a warning, never the deploy that queued it", () => {
    const dir = join(root, "app");
    mkdirSync(dir);
    writeFileSync(join(dir, "protocol.json"), JSON.stringify({ rollout: { statusRemote: status } }));
    process.env.PROTOCOL_NODE_ID = "not/valid";
    try {
      expect(() => queueReport(loadApp(dir), { commit: A, running: A, result: "deployed" })).not.toThrow();
    } finally {
      delete process.env.PROTOCOL_NODE_ID;
    }
  });
});
