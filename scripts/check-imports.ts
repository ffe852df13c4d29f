/**
 * `npm run check:imports`: the import graph of src/ has no cycle, src/lib never imports src/commands,
 * and src/lib has no loose files (each module lives in its subsystem's folder). Runtime imports only:
 * Bun's transpiler drops type-only imports, which cannot cause an initialisation-order bug.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

// The tree to check: the repo's own, or another (the test points it at a small tree with a cycle).
const root = resolve(process.argv[2] ?? join(import.meta.dir, ".."));
const src = join(root, "src");
const transpiler = new Bun.Transpiler({ loader: "ts" });

function listTs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listTs(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Each module's relative runtime imports, resolved to absolute paths inside src/. */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const imports = transpiler
      .scanImports(readFileSync(file, "utf8").replace(/^#!.*/, ""))
      .map((entry) => entry.path)
      .filter((path) => path.startsWith("."))
      .map((path) => resolve(dirname(file), path));
    graph.set(file, imports);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the list of modules around it. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

const files = listTs(src);
const graph = importGraph(files);
const show = (path: string) => relative(root, path);
const problems: string[] = [];

for (const cycle of findCycles(graph)) problems.push(`import cycle: ${cycle.map(show).join(" → ")}`);
const lib = join(src, "lib");
const commands = join(src, "commands");
for (const [file, imports] of graph) {
  if (!file.startsWith(lib)) continue;
  for (const target of imports)
    if (target.startsWith(commands))
      problems.push(`${show(file)} imports ${show(target)}: src/lib must not depend on src/commands`);
  if (dirname(file) === lib) problems.push(`${show(file)} sits loose in src/lib: put it in its subsystem's folder`);
}
for (const [file, imports] of graph) {
  for (const target of imports)
    if (!graph.has(target) && target.startsWith(src))
      problems.push(`${show(file)} imports ${show(target)}, which does not exist`);
}

if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exit(1);
}
console.log(`imports: ${files.length} modules, no cycles, src/lib does not import src/commands`);
