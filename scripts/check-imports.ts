/**
 * Part of `npm run lint`: the import graph of src/ has no cycle, src/lib never imports src/commands,
 * each folder of src/lib imports only the folders below it (LAYERS), src/lib has no loose files, and
 * start-up and the background loop load only what they run. Cycles and layers count type-only
 * imports too (a type edge is a design edge); what a module loads counts runtime imports only.
 *   bun scripts/check-imports.ts [repo-root]   (the test points it at small trees of its own)
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(process.argv[2] ?? join(import.meta.dir, ".."));
const src = join(root, "src");
const transpiler = new Bun.Transpiler({ loader: "ts" });

/**
 * The folders of src/lib, each with the folders it may import (its own is always allowed). Read
 * bottom-up: core is the ground, app the model every subsystem stands on, node the loop on top.
 */
export const LAYERS: Record<string, string[]> = {
  core: [],
  schema: ["core"],
  app: ["core", "schema"],
  git: ["core", "schema", "app"],
  docker: ["core", "schema", "app"],
  release: ["core", "schema", "app"],
  host: ["core", "schema", "app", "git", "docker", "release"],
  "config-repo": ["core", "schema", "app", "git", "docker", "host"],
  fleet: ["core", "schema", "app", "git", "docker", "host", "config-repo"],
  deploy: ["core", "schema", "app", "git", "docker", "host", "config-repo", "fleet"],
  node: ["core", "schema", "app", "git", "docker", "host", "release", "config-repo", "fleet", "deploy"],
};

interface Edge {
  /** An absolute path inside the tree, or a package name ("citty", "node:fs"). */
  target: string;
  dynamic: boolean;
  /** `import type`, or every name imported is a type: loads nothing, but is still a dependency. */
  typeOnly: boolean;
}

function listTs(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return listTs(path);
      return path.endsWith(".ts") ? [path] : [];
    });
}

/** The specifiers of `import type …` / `import { type A, type B } …` / `export type … from`: edges Bun drops. */
function typeOnlySpecifiers(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+["']([^"']+)["']/gms)) {
    const [, typeKeyword, clause = "", specifier = ""] = match;
    const names = /^\{([^}]*)\}$/.exec(clause.trim())?.[1];
    const allTypes =
      names
        ?.split(",")
        .map((name) => name.trim())
        .filter(Boolean)
        .every((name) => name.startsWith("type ")) ?? false;
    if (typeKeyword || allTypes) found.push(specifier);
  }
  return found;
}

function importGraph(files: string[]): Map<string, Edge[]> {
  const graph = new Map<string, Edge[]>();
  for (const file of files) {
    const text = readFileSync(file, "utf8").replace(/^#!.*/, "");
    const at = (path: string) => (path.startsWith(".") ? resolve(dirname(file), path) : path);
    const edges: Edge[] = transpiler.scanImports(text).map((entry) => ({
      target: at(entry.path),
      dynamic: entry.kind === "dynamic-import",
      typeOnly: false,
    }));
    for (const specifier of typeOnlySpecifiers(text)) {
      const target = at(specifier);
      if (!edges.some((edge) => edge.target === target)) edges.push({ target, dynamic: false, typeOnly: true });
    }
    graph.set(file, edges);
  }
  return graph;
}

/** Every cycle found by a depth-first walk (lazy imports count too), each as the modules around it. */
function findCycles(graph: Map<string, Edge[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const { target } of graph.get(node) ?? []) {
      if (!graph.has(target)) continue;
      if (state.get(target) === "open") cycles.push([...stack.slice(stack.indexOf(target)), target]);
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

/** What loading these modules loads before any lazy import runs: modules and packages. */
function staticClosure(graph: Map<string, Edge[]>, entries: string[]): Set<string> {
  const seen = new Set<string>();
  const walk = (node: string) => {
    if (seen.has(node)) return;
    seen.add(node);
    for (const edge of graph.get(node) ?? [])
      if (!edge.dynamic && !edge.typeOnly && !edge.target.endsWith(".json")) walk(edge.target);
  };
  for (const entry of entries) walk(entry);
  return seen;
}

const graph = importGraph(listTs(src));
const show = (path: string) => (path.startsWith("/") ? relative(root, path) : path);
const problems: string[] = [];
const at = (...parts: string[]) => join(src, ...parts);

for (const cycle of findCycles(graph)) problems.push(`import cycle: ${cycle.map(show).join(" → ")}`);
for (const [file, edges] of graph) {
  for (const { target } of edges) {
    if (target.startsWith("/") && !graph.has(target) && !existsSync(target))
      problems.push(`${show(file)} imports ${show(target)}, which does not exist`);
  }
  if (!file.startsWith(at("lib"))) continue;
  for (const { target } of edges) {
    if (target.startsWith(at("commands")))
      problems.push(`${show(file)} imports ${show(target)}: src/lib must not depend on src/commands`);
  }
  if (dirname(file) === at("lib"))
    problems.push(`${show(file)} sits loose in src/lib: put it in its subsystem's folder`);
  const folder = relative(at("lib"), file).split("/")[0]!;
  const allowed = LAYERS[folder];
  if (!allowed && dirname(file) !== at("lib")) {
    problems.push(`src/lib/${folder} is not in the layer table: add it to LAYERS in scripts/check-imports.ts`);
    continue;
  }
  for (const { target } of edges) {
    if (!target.startsWith(`${at("lib")}/`)) continue;
    const other = relative(at("lib"), target).split("/")[0]!;
    if (other !== folder && allowed && !allowed.includes(other))
      problems.push(
        `${show(file)} imports ${show(target)}: src/lib/${folder} may import only ${allowed.join(", ") || "nothing else"}`,
      );
  }
}

// --version and --help answer from cli.ts's own small graph: no package, no command module (bench/startup.ts).
const startup = new Set([
  at("cli.ts"),
  at("usage.ts"),
  at("version.ts"),
  at("commands", "index.ts"),
  at("commands", "_groups.ts"),
  at("lib", "core", "output.ts"),
  // No imports of its own: output.ts escapes every table cell with it.
  at("lib", "core", "safe-line.ts"),
]);
if (graph.has(at("cli.ts"))) {
  for (const module of staticClosure(graph, [at("cli.ts")])) {
    if (!startup.has(module))
      problems.push(`src/cli.ts loads ${show(module)} before answering --version: import it lazily`);
  }
}
// The background loop and status stay off the deploy path until a poll needs it (bench/memory.ts).
const heavy = [at("lib", "node", "execute-deploy.ts"), "ofetch"];
for (const command of ["git/slave.ts", "status.ts"]) {
  const entry = at("commands", command);
  if (!graph.has(entry)) continue;
  const loaded = staticClosure(graph, [at("main.ts"), entry]);
  for (const module of heavy) {
    if (loaded.has(module))
      problems.push(`src/commands/${command} loads ${show(module)} at start: import the deploy path lazily`);
  }
}
// The loop process (src/loop.ts, which cli.ts starts for `git:slave --foreground`) lives for weeks on
// idle passes and keeps all it loads: an idle pass, its config part included (config-repo/sync.ts,
// imported by every pass that follows a config repo), loads no dispatcher and no module it never
// runs: the deploy path, the config repo's move, the recovery of a cut-short move, what a fetch
// looks at. Each is imported where a pass needs it (bench/memory.ts). (record.ts is loaded: every
// pass records its outcome through it.)
const idleNeverRuns = [
  ...heavy,
  "citty",
  at("main.ts"),
  at("lib", "core", "command.ts"),
  at("lib", "config-repo", "follow.ts"),
  at("lib", "config-repo", "links.ts"),
  at("lib", "node", "recover.ts"),
  at("lib", "node", "local-files.ts"),
  at("lib", "node", "room.ts"),
  at("lib", "core", "backup.ts"),
  at("lib", "git", "leftovers.ts"),
  at("lib", "git", "fetch.ts"),
];
if (graph.has(at("loop.ts"))) {
  const idle = [at("cli.ts"), at("loop.ts"), at("lib", "config-repo", "sync.ts")].filter((entry) => graph.has(entry));
  const loaded = staticClosure(graph, idle);
  for (const module of idleNeverRuns) {
    if (loaded.has(module))
      problems.push(`src/loop.ts loads ${show(module)} for an idle pass: import it where a pass needs it`);
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exit(1);
}
console.log(
  `imports: ${graph.size} modules, no cycles (type-only imports counted), src/lib's folders import only down the layer table, start-up and the loop load only what they run`,
);
