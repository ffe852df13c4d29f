/**
 * How a pass decides, row by row: plain observations in, plans out. No git, no docker, no clock.
 * The README's "How a pass decides" table is this file.
 */
import { describe, expect, test } from "bun:test";
import { decide } from "../../src/lib/node/decide.ts";
import { healBackoffSeconds, MAX_HEAL_BACKOFF_S } from "../../src/lib/node/heal.ts";
import type { Incoming, Observed, Plan, Policy, ServiceState, StepKind } from "../../src/lib/node/plan.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);
const NOW = 1_700_000_000_000;

const running = (service: string): ServiceState => ({
  service,
  state: "running",
  exitCode: null,
  health: null,
  ids: [],
});
const exited = (service: string, exitCode: number): ServiceState => ({
  service,
  state: "exited",
  exitCode,
  health: null,
  ids: [`${service}-1`],
});

/** A node deployed at A, idle: the remote at A, one service running, nothing held. */
function observed(
  over: Partial<Omit<Observed, "recorded">> & { recorded?: Partial<Observed["recorded"]> } = {},
): Observed {
  const { recorded, ...rest } = over;
  return {
    now: NOW,
    journal: false,
    head: A,
    remote: { name: "origin", branch: "main", commit: A },
    recorded: {
      deployedCommit: A,
      deployedConfigHash: null,
      quarantine: null,
      paused: null,
      deploying: null,
      heal: { restarts: {}, crashLoop: null },
      services: { running: ["web"], completed: [] },
      images: [],
      diskFull: null,
      ...recorded,
    },
    configHash: null,
    compose: true,
    containers: { services: [running("web")] },
    done: new Set<StepKind>(),
    ...rest,
  };
}

const policy = (over: Partial<Policy> = {}): Policy => ({
  onDirty: "refuse",
  onDiverged: "refuse",
  rollout: true,
  staged: false,
  keepRunning: true,
  heal: { backoffSeconds: 10, maxRestarts: 5, windowSeconds: 600 },
  updates: "auto",
  stopping: false,
  start: null,
  ...over,
});

const MB = 1024 * 1024;

/** The remote at `remote`; the last fetch, of B, stopped with 20 MB free before it; `free` bytes free now. */
const outOfRoom = (remote: string, free: number) => ({
  remote: { name: "origin", branch: "main", commit: remote },
  recorded: {
    diskFull: { commit: B, mount: "/srv", freeBefore: 20 * MB, freeAtStop: 4 * MB, reserve: 8 * MB, at: "t" },
  },
  objectsFree: free,
});

const clean: Incoming = { branch: "main", changes: [], ahead: 0, behind: 1, localFiles: [], room: null };

/** A plan as the table shows it: result, the step kinds, and the deploy's reason when there is one. */
const shape = (plan: Plan) => ({
  result: plan.result,
  steps: plan.steps.map((step) => (step.kind === "hooks" ? `hooks:${step.point}` : step.kind)),
  again: plan.again,
  ...(plan.deploy ? { deploy: plan.deploy.reason } : {}),
});

const NEW_COMMIT = ["pull", "hooks:beforeMove", "move", "up", "hooks:afterUp", "wait", "hooks:afterHealthy", "record"];
const REDEPLOY = ["hooks:beforeMove", "pull", "up", "hooks:afterUp", "wait", "hooks:afterHealthy", "record"];

describe("decide: the plan for each situation", () => {
  const rows: [string, Observed, Policy, ReturnType<typeof shape>][] = [
    ["idle: up to date", observed(), policy(), { result: "up-to-date", steps: [], again: false }],
    [
      "a move was cut short: recover first, then decide again",
      observed({ journal: true }),
      policy(),
      { result: "up-to-date", steps: ["recover"], again: true },
    ],
    [
      "the remote is ahead: fetch first",
      observed({ remote: { name: "origin", branch: "main", commit: B } }),
      policy(),
      { result: "up-to-date", steps: ["fetch"], again: true },
    ],
    [
      "commit ahead, fetched, clean: pull, beforeMove, move, up, afterUp, wait, afterHealthy, record",
      observed({ remote: { name: "origin", branch: "main", commit: B }, incoming: clean }),
      policy(),
      { result: "deployed", steps: NEW_COMMIT, again: false, deploy: "commit" },
    ],
    [
      "config changed (same commit): a config deploy, beforeMove first, no move",
      observed({ configHash: "new", recorded: { deployedConfigHash: "old" } }),
      policy(),
      { result: "deployed", steps: REDEPLOY, again: false, deploy: "config" },
    ],
    [
      "floating tags followed: ask the registry first",
      observed({ recorded: { images: [{ service: "web", image: "r/web:latest", digest: "sha256:1" }] } }),
      policy(),
      { result: "up-to-date", steps: ["check-images"], again: true },
    ],
    [
      "a digest moved: an image deploy",
      observed({
        recorded: { images: [{ service: "web", image: "r/web:latest", digest: "sha256:1" }] },
        imageUpdate: { digests: { "r/web:latest": "sha256:2" } },
      }),
      policy(),
      { result: "deployed", steps: REDEPLOY, again: false, deploy: "image" },
    ],
    [
      "a digest moved, docker.updates=notify: nothing deployed",
      observed({
        recorded: { images: [{ service: "web", image: "r/web:latest", digest: "sha256:1" }] },
        imageUpdate: { digests: { "r/web:latest": "sha256:2" } },
      }),
      policy({ updates: "notify" }),
      { result: "up-to-date", steps: [], again: false },
    ],
    [
      "service exited behind protocol's back: heal",
      observed({ containers: { services: [exited("web", 137)] } }),
      policy(),
      { result: "up-to-date", steps: ["heal"], again: false },
    ],
    [
      "service missing (stop --down): heal",
      observed({
        containers: { services: [{ service: "web", state: "missing", exitCode: null, health: null, ids: [] }] },
      }),
      policy(),
      { result: "up-to-date", steps: ["heal"], again: false },
    ],
    [
      "a one-shot that finished (exit 0 at its deploy) is not restarted",
      observed({
        containers: { services: [running("web"), exited("migrate", 0)] },
        recorded: { services: { running: ["web"], completed: ["migrate"] } },
      }),
      policy(),
      { result: "up-to-date", steps: [], again: false },
    ],
    [
      "a service whose compose file opts out (label protocol.keep-running: false) is not restarted",
      observed({ containers: { services: [{ ...exited("job", 0), optOut: true }, running("web")] } }),
      policy(),
      { result: "up-to-date", steps: [], again: false },
    ],
    [
      "restarting (the engine's own restart policy) is left to the engine",
      observed({
        containers: { services: [{ service: "web", state: "restarting", exitCode: null, health: null, ids: [] }] },
      }),
      policy(),
      { result: "up-to-date", steps: [], again: false },
    ],
    [
      "docker.keepRunning=false: no heal",
      observed({ containers: { services: [exited("web", 1)] } }),
      policy({ keepRunning: false }),
      { result: "up-to-date", steps: [], again: false },
    ],
    [
      "crash-looping: after maxRestarts in the window, marked, not started",
      observed({
        containers: { services: [exited("web", 3)] },
        recorded: { heal: { restarts: { web: [NOW - 50_000, NOW - 40_000, NOW - 30_000] }, crashLoop: null } },
      }),
      policy({ heal: { backoffSeconds: 1, maxRestarts: 3, windowSeconds: 600 } }),
      { result: "up-to-date", steps: ["crash-loop"], again: false },
    ],
    [
      "crash-looping, marked: left alone",
      observed({
        containers: { services: [exited("web", 3)] },
        recorded: {
          heal: {
            restarts: { web: [NOW - 1000] },
            crashLoop: { services: ["web"], since: "t", commit: A, restarts: 5 },
          },
        },
      }),
      policy(),
      { result: "up-to-date", steps: [], again: false },
    ],
    [
      "crash-looping, marked, protocol start: started again",
      observed({
        containers: { services: [exited("web", 3)] },
        recorded: {
          heal: {
            restarts: { web: [NOW - 1000] },
            crashLoop: { services: ["web"], since: "t", commit: A, restarts: 5 },
          },
        },
      }),
      policy({ start: "start" }),
      { result: "up-to-date", steps: ["heal"], again: false },
    ],
    [
      "held by deploy:rollback: no new commit, but the current one is healed",
      observed({
        remote: { name: "origin", branch: "main", commit: B },
        containers: { services: [exited("web", 137)] },
        recorded: { paused: { at: "t", reason: "deploy:rollback", commit: A } },
      }),
      policy(),
      { result: "paused", steps: ["heal"], again: false },
    ],
    [
      "the remote's commit is quarantined: skipped, the current one healed",
      observed({
        remote: { name: "origin", branch: "main", commit: B },
        containers: { services: [exited("web", 1)] },
        recorded: { quarantine: { commit: B, digests: null, reason: "x", at: "t", rolledBackTo: A } },
      }),
      policy(),
      { result: "quarantined", steps: ["heal"], again: false },
    ],
    [
      "a staged rollout: the new commit is fetched first (its own protocol.json says whether it is staged)",
      observed({ remote: { name: "origin", branch: "main", commit: B } }),
      policy({ staged: true }),
      { result: "up-to-date", steps: ["fetch"], again: true },
    ],
    [
      "a staged rollout: ask the wave and the fleet record before anything moves",
      observed({ remote: { name: "origin", branch: "main", commit: B }, incoming: clean }),
      policy({ staged: true }),
      { result: "up-to-date", steps: ["check-gate"], again: true },
    ],
    [
      "the incoming commit drops its rollout: deployed at once, whatever the disk's protocol.json says",
      observed({ remote: { name: "origin", branch: "main", commit: B }, incoming: { ...clean, config: {} as never } }),
      policy({ staged: true }),
      { result: "deployed", steps: NEW_COMMIT, again: false, deploy: "commit" },
    ],
    [
      "the incoming commit brings a rollout: its wave is asked, though the disk's has none",
      observed({
        remote: { name: "origin", branch: "main", commit: B },
        incoming: { ...clean, config: { rollout: { waves: 3, waveSeconds: 60 } } as never },
      }),
      policy({ staged: false }),
      { result: "up-to-date", steps: ["check-gate"], again: true },
    ],
    [
      "wave waiting: nothing moves",
      observed({
        remote: { name: "origin", branch: "main", commit: B },
        incoming: clean,
        gate: { result: "waiting", message: "w", hint: "h" },
      }),
      policy({ staged: true }),
      { result: "waiting", steps: [], again: false },
    ],
    [
      "held by a canary: nothing moves",
      observed({
        remote: { name: "origin", branch: "main", commit: B },
        incoming: clean,
        gate: { result: "held", message: "w", hint: "h" },
      }),
      policy({ staged: true }),
      { result: "held", steps: [], again: false },
    ],
    [
      "git:pull --now: the rollout is not asked",
      observed({ remote: { name: "origin", branch: "main", commit: B }, incoming: clean }),
      policy({ staged: true, rollout: false }),
      { result: "deployed", steps: NEW_COMMIT, again: false, deploy: "commit" },
    ],
    [
      "dirty working copy: refused",
      observed({
        remote: { name: "origin", branch: "main", commit: B },
        incoming: { ...clean, changes: [{ path: "x", index: " ", worktree: "M" } as never] },
      }),
      policy(),
      { result: "dirty", steps: [], again: false },
    ],
    [
      "dirty, --on-dirty=stash: moved (the move stashes)",
      observed({
        remote: { name: "origin", branch: "main", commit: B },
        incoming: { ...clean, changes: [{ path: "x", index: " ", worktree: "M" } as never] },
      }),
      policy({ onDirty: "stash" }),
      { result: "deployed", steps: NEW_COMMIT, again: false, deploy: "commit" },
    ],
    [
      "diverged (local commits and remote commits): refused",
      observed({
        head: C,
        recorded: { deployedCommit: A },
        remote: { name: "origin", branch: "main", commit: B },
        incoming: { ...clean, ahead: 1, behind: 2 },
      }),
      policy(),
      { result: "diverged", steps: [], again: false },
    ],
    [
      "the remote rewound under the deployed commit: followed",
      observed({ remote: { name: "origin", branch: "main", commit: B }, incoming: { ...clean, ahead: 2, behind: 0 } }),
      policy(),
      { result: "deployed", steps: NEW_COMMIT, again: false, deploy: "rewind" },
    ],
    [
      "node-local files in the way: refused",
      observed({ remote: { name: "origin", branch: "main", commit: B }, incoming: { ...clean, localFiles: [".env"] } }),
      policy(),
      { result: "dirty", steps: [], again: false },
    ],
    [
      "on another branch: an error",
      observed({ remote: { name: "origin", branch: "main", commit: B }, incoming: { ...clean, branch: "dev" } }),
      policy(),
      { result: "error", steps: [], again: false },
    ],
    [
      "too little room: an error, nothing moves",
      observed({
        remote: { name: "origin", branch: "main", commit: B },
        incoming: { ...clean, room: { error: "full", hint: "free some" } },
      }),
      policy(),
      { result: "error", steps: [], again: false },
    ],
    [
      "stopping (SIGTERM): no new move",
      observed({ remote: { name: "origin", branch: "main", commit: B }, incoming: clean }),
      policy({ stopping: true }),
      { result: "error", steps: [], again: false },
    ],
    [
      "the remote is unreachable: no new commit, the current one still healed",
      observed({
        remote: { name: "origin", branch: "main", commit: null, failed: { result: "unreachable", error: "down" } },
        containers: { services: [exited("web", 137)] },
      }),
      policy(),
      { result: "unreachable", steps: ["heal"], again: false },
    ],
    [
      "the branch is gone from the remote: an error",
      observed({ remote: { name: "origin", branch: "main", commit: null } }),
      policy(),
      { result: "error", steps: [], again: false },
    ],
    [
      "first deploy (nothing recorded): a commit deploy of HEAD, no rollback target",
      observed({ recorded: { deployedCommit: null, services: null }, containers: null }),
      policy(),
      {
        result: "deployed",
        steps: ["pull", "up", "hooks:afterUp", "wait", "hooks:afterHealthy", "record"],
        again: false,
        deploy: "commit",
      },
    ],
    [
      "the fetch of the remote's commit ran out of room and there is no more now: disk-full, no fetch, the current one still healed",
      observed({ ...outOfRoom(B, 20 * MB + 31 * MB), containers: { services: [exited("web", 137)] } }),
      policy(),
      { result: "disk-full", steps: ["heal"], again: false },
    ],
    [
      "the fetch ran out of room, and free space grew past it by the margin (32 MB or 10 %): fetch again",
      observed(outOfRoom(B, 20 * MB + 33 * MB)),
      policy(),
      { result: "up-to-date", steps: ["fetch"], again: true },
    ],
    [
      "the fetch of an older commit ran out of room, the remote has a new one: fetch it",
      observed(outOfRoom(C, 20 * MB)),
      policy(),
      { result: "up-to-date", steps: ["fetch"], again: true },
    ],
    [
      "the fetch ran out of room: a person's start fetches again at once",
      observed(outOfRoom(B, 20 * MB)),
      policy({ start: "start" }),
      { result: "up-to-date", steps: ["fetch"], again: true },
    ],
    [
      "the config repo moved: follow it first",
      observed({ configRepo: { branch: "production", head: A, remoteCommit: B } }),
      policy(),
      { result: "up-to-date", steps: ["follow-config"], again: true },
    ],
  ];
  for (const [name, o, p, expected] of rows) test(name, () => expect(shape(decide(o, p))).toEqual(expected));
});

describe("decide: details", () => {
  test("a fetch held for want of room says so with the sizes, and when it is fetched again", () => {
    const plan = decide(observed(outOfRoom(B, 21 * MB)), policy());
    expect(plan.error).toBe(
      "disk full: fetching bbbbbbbb needs more than the 12 MB free on /srv above its 8.0 MB reserve (since t; 21 MB free now: not fetched again)",
    );
    expect(plan.hint).toContain(
      "then run protocol sync; bbbbbbbb is fetched again once more than 52 MB are free there",
    );
  });

  test("a deploy cut short resumes under its id (its finished hook steps are skipped)", () => {
    const plan = decide(
      observed({
        recorded: {
          deployedCommit: A,
          deploying: { id: "d1", from: A, to: B, since: "t", reason: "commit", error: null },
        },
        head: B,
        remote: { name: "origin", branch: "main", commit: B },
      }),
      policy(),
    );
    expect(plan.deploy).toMatchObject({ resume: "d1", to: B, reason: "commit", rollbackTo: A });
  });

  test("a config redeploy after a finished deploy is a new deploy (no id to resume): its hooks run", () => {
    const plan = decide(observed({ configHash: "new", recorded: { deployedConfigHash: "old" } }), policy());
    expect(plan.deploy).toMatchObject({ resume: null, reason: "config", rollbackTo: A });
  });

  test("an interrupted image deploy is resumed as an image deploy", () => {
    const plan = decide(
      observed({
        recorded: { deploying: { id: "d2", from: A, to: A, since: "t", reason: "image", error: "engine down" } },
      }),
      policy(),
    );
    expect(plan.deploy).toMatchObject({ resume: "d2", reason: "image" });
  });

  test("a heal waits out its backoff: the first restart is at once, the k-th waits backoff·2^(k-1) after the one before", () => {
    const o = observed({
      containers: { services: [exited("web", 1)] },
      recorded: { heal: { restarts: { web: [NOW - 25_000, NOW - 5_000] }, crashLoop: null } },
    });
    // Two restarts so far: the third waits 4 × 10 s after the second.
    const plan = decide(o, policy());
    expect(plan.steps).toEqual([]);
    expect(plan.heal?.waitingUntil).toBe(NOW - 5_000 + 40_000);
    expect(shape(decide({ ...o, now: NOW + 35_001 }, policy())).steps).toEqual(["heal"]);
    expect(healBackoffSeconds(10, 0)).toBe(0);
    expect(healBackoffSeconds(10, 1)).toBe(20);
    expect(healBackoffSeconds(10, 2)).toBe(40);
    expect(healBackoffSeconds(10, 20)).toBe(MAX_HEAL_BACKOFF_S);
  });

  test("restart (after a reboot) starts at once, whatever the backoff, but leaves a crash-loop mark", () => {
    const o = observed({
      containers: { services: [exited("web", 1)] },
      recorded: { heal: { restarts: { web: [NOW - 1_000] }, crashLoop: null } },
    });
    expect(shape(decide(o, policy({ start: "restart" }))).steps).toEqual(["heal"]);
    const marked = observed({
      containers: { services: [exited("web", 1)] },
      recorded: { heal: { restarts: {}, crashLoop: { services: ["web"], since: "t", commit: A, restarts: 5 } } },
    });
    expect(shape(decide(marked, policy({ start: "restart" }))).steps).toEqual([]);
  });

  test("a crash-loop mark of an earlier commit does not stop healing this one", () => {
    const plan = decide(
      observed({
        containers: { services: [exited("web", 1)] },
        recorded: { heal: { restarts: {}, crashLoop: { services: ["web"], since: "t", commit: C, restarts: 5 } } },
      }),
      policy(),
    );
    expect(shape(plan).steps).toEqual(["heal"]);
  });

  test("a node an older protocol deployed (no service list) with no container at all: start brings it up", () => {
    const o = observed({ recorded: { services: null }, containers: { services: [] } });
    expect(shape(decide(o, policy({ start: "restart" }))).steps).toEqual(["heal"]);
    expect(shape(decide(o, policy())).steps).toEqual([]);
  });

  test("the engine cannot say: no heal, no error", () => {
    const plan = decide(observed({ containers: { error: "engine down" } }), policy());
    expect(shape(plan)).toEqual({ result: "up-to-date", steps: [], again: false });
  });

  test("each observing step runs once per pass: a second fetch is never asked for", () => {
    const o = observed({
      remote: { name: "origin", branch: "main", commit: B },
      journal: true,
      done: new Set(["recover"]),
    });
    expect(shape(decide(o, policy())).steps).toEqual(["fetch"]);
  });

  test("an image update to digests quarantined before is not deployed again", () => {
    const digests = { "r/web:latest": "sha256:2" };
    const plan = decide(
      observed({
        recorded: {
          images: [{ service: "web", image: "r/web:latest", digest: "sha256:1" }],
          quarantine: { commit: A, digests, reason: "x", at: "t", rolledBackTo: A },
        },
        imageUpdate: { digests },
      }),
      policy(),
    );
    expect(shape(plan)).toEqual({ result: "up-to-date", steps: [], again: false });
  });
});
