/**
 * `npm run mutate`: break one rule of the product at a time and check that the tests notice.
 * Each mutation is a textual change to one source file, applied to a temp copy of the repo
 * (node_modules linked, not copied) and run against the test files that should catch it.
 *
 * First a baseline: each mutation's test files run on an untouched copy, and must pass (a test
 * that already fails would "catch" anything). Then each mutation: caught only when a test of its
 * own files fails on an assertion (scripts/mutate-runner.ts says why the others do not count).
 * Prints one line per mutation; exits 1 if any was not caught, its baseline failed, or it no
 * longer applies (the code it targets moved: the table needs updating). No process outlives a run.
 * `npm run mutate -- <name>…` runs those.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baselineProblems, judge, type RunResult, runTests } from "./mutate-runner.ts";

interface Mutation {
  name: string;
  /** The rule of PRODUCT.md (or of an issue) that the mutation breaks. */
  rule: string;
  file: string;
  from: string;
  to: string;
  tests: string[];
}

const MUTATIONS: Mutation[] = [
  {
    name: "before-move-failure-moves",
    rule: "a failing beforeMove hook aborts the deploy: the working copy is not moved",
    file: "src/lib/node/execute-deploy.ts",
    from: "        await runHooks(app, step.point, facts, hooks, progress);",
    to: "        await runHooks(app, step.point, facts, hooks, progress).catch(() => undefined);",
    tests: ["test/integration/deploy-hooks.test.ts"],
  },
  {
    name: "hooks-run-twice",
    rule: "a deploy resumed after a crash does not run its finished hook steps again",
    file: "src/lib/deploy/hooks.ts",
    from: "if (progress.done.has(key)) {",
    to: "if (false) {",
    tests: ["test/cli/deploy-hooks.test.ts"],
  },
  {
    name: "credential-helpers-ignored",
    rule: "the digest check asks the credential helper config.json names for its registry",
    file: "src/lib/docker/credentials.ts",
    from: "if (perRegistry) {",
    to: "if (false) {",
    tests: ["test/integration/credential-helpers.test.ts"],
  },
  {
    name: "signature-unchecked",
    rule: "self:update installs nothing unless the release key signed SHA256SUMS",
    file: "src/lib/release/signed-sums.ts",
    from: "comment = await verifySignature(new TextEncoder().encode(text), signature, key);",
    to: 'comment = ""; void verifySignature;',
    tests: ["test/cli/self.test.ts"],
  },
  {
    name: "canary-failure-ignored",
    rule: "a later wave holds a commit another node reported failed or rolled back",
    file: "src/lib/fleet/records.ts",
    from: '(r.result === "failed" || r.result === "rolled-back"))',
    to: "false)",
    tests: ["test/integration/fleet-gate.test.ts"],
  },
  {
    name: "waves-not-waited",
    rule: "a node in wave k deploys a new commit (k - 1) x waveSeconds after it first saw it",
    file: "src/lib/fleet/waves.ts",
    from: "return firstSeenMs + (place.wave - 1) * waveSeconds(rollout) * 1000 + (place.wave > 1 ? spreadMs(place, rollout) : 0);",
    to: "return firstSeenMs;",
    tests: ["test/cli/fleet-commands.test.ts"],
  },
  {
    name: "held-node-rereads-every-poll",
    rule: "a held node reads the fleet record again only at the waves' pace",
    file: "src/lib/fleet/gate.ts",
    from: "if (entry.hold && entry.checkedAt !== null && now - entry.checkedAt < recheckMs(rollout, input.intervalSeconds))",
    to: "if (false)",
    tests: ["test/integration/fleet-gate.test.ts"],
  },
  {
    name: "config-move-unchecked",
    rule: "the config sync plans the incoming tree's links before it moves",
    file: "src/lib/config-repo/follow.ts",
    from: "assertNoConflicts(\n    (await planConfigLinks(app, repo, { tree: await scanConfigTree(ctx, remoteCommit), prune: true })).plan,\n  );",
    to: "void scanConfigTree;",
    tests: ["test/cli/config-slave.test.ts", "test/cli/hostile-config.test.ts"],
  },
  {
    name: "idle-timeout-never-fires",
    rule: "network git is killed when nothing arrives for the network timeout",
    file: "src/lib/core/spawn.ts",
    from: "if (!options.idleTimeoutMs) return;",
    to: "return;",
    tests: ["test/integration/interrupted-fetch.test.ts"],
  },
  {
    name: "stale-recovery-steals",
    rule: "stale-lock recovery never replaces a lock another process took meanwhile",
    file: "src/lib/app/lock.ts",
    from: "if (moved && seen && moved.pid !== seen.pid && !isStale(moved)) {",
    to: "if (false) {",
    tests: ["test/unit/lock.test.ts"],
  },
  {
    name: "rollback-drops-local-commits",
    rule: "a rollback keeps commits that exist only on the node under a backup ref",
    file: "src/lib/deploy/rollback.ts",
    from: "if (head && !onRemote) {",
    to: "if (false) {",
    tests: ["test/cli/deploy-rollback.test.ts", "test/integration/deploy-gate.test.ts"],
  },
  {
    name: "image-failure-quarantines-commit",
    rule: "a failed image update quarantines those digests, not the commit",
    file: "src/lib/node/record.ts",
    from: "digests: plan.digests,",
    to: "digests: null,",
    tests: ["test/integration/deploy-gate.test.ts"],
  },
  {
    name: "loop-never-rereads-config",
    rule: "the loop follows the protocol.json a new commit brings",
    file: "src/lib/node/slave.ts",
    from: "if (await loop.poll(app, interval(app) * 1000, stop.signal)) app = loadApp(app.dir);",
    to: "await loop.poll(app, interval(app) * 1000, stop.signal);",
    tests: ["test/cli/lifecycle.test.ts", "test/cli/one-loop.test.ts"],
  },
  {
    name: "self-update-no-smoke-run",
    rule: "self:update runs the new binary before it replaces the old one",
    file: "src/lib/release/self-update.ts",
    from: "if (reported !== release.version) {",
    to: "if (false) {",
    tests: ["test/cli/self.test.ts"],
  },
  {
    name: "rollback-without-lock",
    rule: "deploy:rollback holds the app's sync lock",
    file: "src/lib/node/manual-rollback.ts",
    from: 'using _lock = await lockApp(app, "deploy:rollback");',
    to: "void lockApp;",
    tests: ["test/cli/deploy-rollback.test.ts"],
  },
  {
    name: "dirty-counted-clean",
    rule: "a dirty working copy is refused, never overwritten",
    file: "src/lib/git/classify.ts",
    from: "if (changes.length > 0 && !allow.dirty) {",
    to: "if (false) {",
    tests: ["test/integration/sync.test.ts", "test/integration/local-work.test.ts"],
  },
  {
    name: "sync-lock-skipped",
    rule: "one sync at a time per app: the sync lock",
    file: "src/lib/node/pass.ts",
    from: "const lock = await lockApp(app, options.command, options.lockWaitMs ?? 0);",
    to: "const lock = { release() {} };",
    tests: ["test/cli/pull.test.ts", "test/unit/lock.test.ts", "test/cli/one-loop.test.ts"],
  },
  {
    name: "link-conflict-ignored",
    rule: "a link conflict changes nothing",
    file: "src/lib/config-repo/links.ts",
    from: "if (plan.conflicts.length === 0) return;",
    to: "return;",
    tests: ["test/cli/config.test.ts", "test/cli/hostile-config.test.ts"],
  },
  {
    name: "checksum-mismatch-accepted",
    rule: "a download whose checksum does not match SHA256SUMS is refused",
    file: "src/lib/release/checksum.ts",
    from: "if (actual !== expected) {",
    to: "if (false) {",
    tests: ["test/cli/self.test.ts"],
  },
  {
    name: "install-sh-comment-unchecked",
    rule: "install.sh (with OpenSSL) refuses a signature whose trusted comment was changed: no old release as a new one",
    file: "install.sh",
    from: '      die "the trusted comment of SHA256SUMS.minisig was changed; nothing was installed"',
    to: "      true",
    tests: ["test/integration/install-sh-signature.test.ts"],
  },
  {
    name: "idle-poll-fetches",
    rule: "an idle pass is one ls-remote: no fetch, nothing that reads the working copy or the objects",
    file: "src/lib/node/decide.ts",
    from: "  if (head === remote) {",
    // The up-to-date branch only after a fetch: the idle pass fetches, as it must not.
    to: "  if (head === remote && o.incoming !== undefined) {",
    tests: ["test/integration/sync.test.ts"],
  },
  {
    name: "fetched-commit-refetched",
    rule: "a commit a finished fetch brought is not fetched again",
    file: "src/lib/git/git.ts",
    from: "if (await hasFetched(ctx, remote, branch, sha)) return false;",
    to: "",
    tests: ["test/integration/sync.test.ts", "test/integration/interrupted-fetch.test.ts"],
  },
  {
    name: "later-waves-deploy-unchecked",
    rule: "a later wave deploys only once the fleet record could be read",
    file: "src/lib/fleet/gate.ts",
    from: "if (place.wave === 1) {",
    to: "if (place.wave >= 1) {",
    tests: ["test/integration/fleet-gate.test.ts"],
  },
  {
    name: "hooks-marker-never-cleared",
    rule: "a finished deploy clears its hook marker: the next deploy starts with none",
    file: "src/lib/node/record.ts",
    from: "      deploying: null,\n      hooksDone: null,\n      // A new deploy",
    to: "      deploying: null,\n      // A new deploy",
    tests: ["test/integration/deploy-hooks.test.ts"],
  },
  {
    name: "heal-skipped",
    rule: "a pass starts the deployed commit's services that stopped behind protocol's back",
    file: "src/lib/node/decide.ts",
    from: "      DOWN.has(s.state) &&",
    to: "      false &&",
    tests: ["test/unit/decide.test.ts", "test/cli/converge.test.ts"],
  },
  {
    name: "settle-skipped",
    rule: "without deploy.health a deploy waits until every service stayed running for the settle time",
    file: "src/lib/deploy/health.ts",
    from: "if (!healthConfig(app)) return waitToSettle(app);",
    to: "if (!healthConfig(app)) return { running: [], completed: [] };",
    tests: ["test/cli/converge.test.ts"],
  },
  {
    name: "hooks-keyed-by-commit",
    rule: "hooks run once per deploy, keyed by the deploy's id: a redeploy of the same commit runs them",
    file: "src/lib/node/execute.ts",
    from: "recorded && (recorded.deployId === id || (!recorded.deployId && recorded.to === deploy.to)) ? recorded.steps : [];",
    to: "recorded && recorded.to === deploy.to ? recorded.steps : [];",
    tests: ["test/integration/deploy-hooks.test.ts"],
  },
  {
    name: "config-hash-ignored",
    rule: "a pass redeploys when the linked config's hash differs from the last deploy's",
    file: "src/lib/node/decide.ts",
    from: "if (deployed === head && o.configHash === o.recorded.deployedConfigHash && !interrupted(o, head)) {",
    to: "if (deployed === head && !interrupted(o, head)) {",
    tests: ["test/unit/decide.test.ts", "test/integration/deploy-hooks.test.ts"],
  },
  {
    name: "lib-imports-node",
    rule: "no lib folder but node/ imports lib/node (the loop is on top)",
    file: "src/lib/docker/docker.ts",
    from: 'import { log } from "../core/log.ts";',
    to: 'import { log } from "../core/log.ts";\nimport "../node/plan.ts";',
    tests: ["test/unit/check-imports.test.ts"],
  },
];

const root = join(import.meta.dir, "..");
const only = process.argv.slice(2);
const chosen = only.length > 0 ? MUTATIONS.filter((m) => only.includes(m.name)) : MUTATIONS;
const unknown = only.filter((name) => !MUTATIONS.some((m) => m.name === name));
if (unknown.length > 0) {
  console.error(`no such mutation: ${unknown.join(", ")}`);
  process.exit(2);
}

/** A copy of the repo's tracked tree (src, test, scripts, configs), node_modules linked. */
function copyRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), "protocol-mutate-"));
  for (const entry of [
    "src",
    "test",
    "scripts",
    "package.json",
    "tsconfig.json",
    "bunfig.toml",
    "install.sh",
    "README.md",
  ])
    if (existsSync(join(root, entry))) cpSync(join(root, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** Run `files` in a fresh copy, `change` applied to it first; the copy is removed after. */
async function inCopy(files: string[], change?: (dir: string) => void): Promise<RunResult> {
  const dir = copyRepo();
  try {
    change?.(dir);
    const run = await runTests(dir, files);
    if (run.leftovers.length > 0) console.log(`  (killed what the run left behind: ${run.leftovers.join(", ")})`);
    return run;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const width = Math.max(...chosen.map((m) => m.name.length));
const line = (mutation: Mutation, verdict: string, detail: string) =>
  console.log(`${mutation.name.padEnd(width)}  ${verdict.padEnd(9)} ${detail}`);
const applies = (mutation: Mutation) => readFileSync(join(root, mutation.file), "utf8").includes(mutation.from);

// The baseline: each mutation's test files (each distinct set once) on the untouched tree.
const baselines = new Map<string, string[]>();
for (const mutation of chosen.filter(applies)) {
  const key = mutation.tests.join(" ");
  if (baselines.has(key)) continue;
  const run = await inCopy(mutation.tests);
  const problems = baselineProblems(run, mutation.tests);
  baselines.set(key, problems);
  console.log(`baseline ${problems.length === 0 ? "ok    " : "FAILED"} ${key} (${(run.ms / 1000).toFixed(0)} s)`);
  for (const problem of problems) console.log(`  ${problem}`);
}
console.log("");

let bad = 0;
for (const mutation of chosen) {
  if (!applies(mutation)) {
    bad++;
    line(mutation, "STALE", `${mutation.file} no longer has the code this mutation changes`);
    continue;
  }
  const problems = baselines.get(mutation.tests.join(" ")) ?? [];
  if (problems.length > 0) {
    bad++;
    line(mutation, "BASELINE", `its tests fail on the untouched tree, so they prove nothing: ${problems[0]}`);
    continue;
  }
  const run = await inCopy(mutation.tests, (dir) => {
    const path = join(dir, mutation.file);
    writeFileSync(path, readFileSync(path, "utf8").replace(mutation.from, mutation.to));
  });
  const verdict = judge(run, mutation.tests);
  if (!verdict.caught) bad++;
  line(mutation, verdict.caught ? "caught" : "SURVIVED", `${mutation.rule} (${verdict.why})`);
}
console.log(`\n${chosen.length - bad} of ${chosen.length} mutations caught`);
process.exit(bad > 0 ? 1 : 0);
