import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { REPO_ROOT, sh } from "../helpers/fixture.ts";

const script = join(REPO_ROOT, "scripts", "check-imports.ts");
const trees: string[] = [];
afterEach(() => {
  for (const tree of trees.splice(0)) rmSync(tree, { recursive: true, force: true });
});

/** A small src/ tree: path → source. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "protocol-imports-"));
  trees.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, "src", path)), { recursive: true });
    writeFileSync(join(root, "src", path), text);
  }
  return root;
}

const check = (root: string) => sh([process.execPath, script, root]);

describe("scripts/check-imports.ts", () => {
  test("passes on this repo", async () => {
    const run = await check(REPO_ROOT);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
  });

  test("fails on a cycle, naming the modules around it", async () => {
    const run = await check(
      tree({
        "lib/node/a.ts": 'import { b } from "./b.ts";\nexport const a = () => b;\n',
        "lib/node/b.ts": 'import { a } from "./a.ts";\nexport const b = () => a;\n',
      }),
    );
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("import cycle: src/lib/node/a.ts → src/lib/node/b.ts → src/lib/node/a.ts");
  });

  test("fails on a cycle made only of type imports", async () => {
    const run = await check(
      tree({
        "lib/node/a.ts": 'import type { B } from "./b.ts";\nexport type A = { b: B };\n',
        "lib/node/b.ts": 'import { type A } from "./a.ts";\nexport type B = { a?: A };\n',
      }),
    );
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("import cycle: src/lib/node/a.ts → src/lib/node/b.ts → src/lib/node/a.ts");
  });

  test("fails when a lib folder imports one above it in the layer table, even for a type", async () => {
    const run = await check(
      tree({
        "lib/node/loop.ts": "export const loop = 1;\n",
        "lib/deploy/step.ts": 'import type { X } from "../node/loop.ts";\nexport type Y = X;\n',
        "lib/docker/cli.ts": 'import { loop } from "../node/loop.ts";\nexport const cli = loop;\n',
        "lib/widgets/w.ts": "export const w = 1;\n",
      }),
    );
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("src/lib/deploy/step.ts imports src/lib/node/loop.ts: src/lib/deploy may import only");
    expect(run.stderr).toContain("src/lib/docker/cli.ts imports src/lib/node/loop.ts: src/lib/docker may import only");
    expect(run.stderr).toContain("src/lib/widgets is not in the layer table");
  });

  test("fails when lib imports commands, or a module sits loose in lib", async () => {
    const run = await check(
      tree({
        "commands/x.ts": "export const x = 1;\n",
        "lib/core/y.ts": 'import { x } from "../../commands/x.ts";\nexport const y = x;\n',
        "lib/loose.ts": "export const z = 1;\n",
      }),
    );
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("src/lib/core/y.ts imports src/commands/x.ts");
    expect(run.stderr).toContain("src/lib/loose.ts sits loose in src/lib");
  });

  test("fails when cli.ts loads more than its own graph, or the loop loads the deploy path", async () => {
    const run = await check(
      tree({
        "cli.ts": 'import { defineCommand } from "citty";\nvoid defineCommand;\nvoid import("./main.ts");\n',
        "main.ts": "export const main = 1;\n",
        "commands/git/slave.ts": 'import { runDeploy } from "../../lib/node/execute-deploy.ts";\nvoid runDeploy;\n',
        "lib/node/execute-deploy.ts": "export const runDeploy = 1;\n",
      }),
    );
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("src/cli.ts loads citty before answering --version");
    expect(run.stderr).toContain("src/commands/git/slave.ts loads src/lib/node/execute-deploy.ts at start");
  });

  test("fails when the loop's own entry loads the dispatcher, or a module an idle pass never runs", async () => {
    const run = await check(
      tree({
        "loop.ts":
          'import { defineCommand } from "citty";\nimport { pass } from "./lib/node/pass.ts";\nvoid defineCommand;\nvoid pass;\n',
        "lib/node/pass.ts":
          'import { recover } from "./recover.ts";\nexport const pass = () => import("./execute-deploy.ts").then(() => recover);\n',
        "lib/node/recover.ts": "export const recover = 1;\n",
        "lib/node/execute-deploy.ts": "export const runDeploy = 1;\n",
        // Imported lazily by every pass that follows a config repo: what it loads counts as the idle pass's.
        "lib/config-repo/sync.ts": 'import { link } from "./links.ts";\nexport const observe = link;\n',
        "lib/config-repo/links.ts": "export const link = 1;\n",
      }),
    );
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("src/loop.ts loads citty for an idle pass");
    expect(run.stderr).toContain("src/loop.ts loads src/lib/node/recover.ts for an idle pass");
    expect(run.stderr).toContain("src/loop.ts loads src/lib/config-repo/links.ts for an idle pass");
    // Imported where a pass needs it: allowed.
    expect(run.stderr).not.toContain("execute-deploy");
  });
});
