/**
 * Issue 29, item 1: a child with a time limit runs in a group of its own, so Ctrl-C reaches it only
 * through protocol, which passes the signal on to every group it started. Two such children at
 * once (the checks of doctor, the queries of status): the one still running when Ctrl-C comes gets
 * it too, whichever ended first. A real bun process running spawn.ts, real sh and sleep.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, REPO_ROOT } from "../helpers/fixture.ts";
import { killProcessesWithArgv, processesWithArgv } from "../helpers/processes.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "protocol-signals-"));
});
afterAll(() => {
  killProcessesWithArgv(["sleep", "1021.5"]);
  rmSync(dir, { recursive: true, force: true });
});

test("Ctrl-C after one of two limited children ended still reaches the other's group; nothing is left", async () => {
  const script = join(dir, "two-children.ts");
  writeFileSync(
    script,
    `import { run } from ${JSON.stringify(join(REPO_ROOT, "src", "lib", "core", "spawn.ts"))};
const quick = run(["sh", "-c", "sleep 0.3"], { idleTimeoutMs: 60_000 });
const slow = run(["sh", "-c", "sleep 1021.5"], { idleTimeoutMs: 60_000 });
await quick;
console.log("quick one done");
await slow;
`,
  );
  const child = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  const first = await reader.read();
  expect(new TextDecoder().decode(first.value)).toContain("quick one done");
  expect(processesWithArgv(["sleep", "1021.5"])).toHaveLength(1);
  child.kill("SIGINT");
  expect(await child.exited).toBe(130);
  expect(await eventually(() => processesWithArgv(["sleep", "1021.5"]).length === 0, 5_000)).toBe(true);
}, 30_000);
