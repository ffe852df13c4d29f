import { describe, expect, test } from "bun:test";
import {
  conflictHint,
  linkValue,
  type PlanInput,
  parentPaths,
  planLinks,
  pointsIntoConfig,
  type TargetState,
} from "../../src/lib/config-repo/plan.ts";

const APP = "/srv/shop app";
const CONFIG = "/srv/shop app-config";
const plan = (targets: Record<string, TargetState>, extra: Partial<PlanInput> = {}) =>
  planLinks({
    appDir: APP,
    configDir: CONFIG,
    sources: [".env", "nginx.d/site.conf"],
    targets,
    tracked: [],
    owned: [],
    ...extra,
  });
const ours = (path: string): TargetState => ({ kind: "link", value: linkValue(APP, CONFIG, path) });

describe("linkValue / pointsIntoConfig / parentPaths", () => {
  test.each([
    [".env", "../shop app-config/.env"],
    ["nginx.d/site.conf", "../../shop app-config/nginx.d/site.conf"],
    ["a/b/c.txt", "../../../shop app-config/a/b/c.txt"],
  ])("%s links to %s (relative, so the pair of dirs can move)", (path, value) => {
    expect(linkValue(APP, CONFIG, path)).toBe(value);
    expect(pointsIntoConfig(APP, CONFIG, path, value)).toBe(true);
  });

  test.each([
    [".env", "/etc/hosts", false],
    [".env", "../shop app-configX/.env", false],
    [".env", "/srv/shop app-config/.env", true],
    ["x/.env", "../../shop app-config/old/.env", true],
  ])("%s -> %s points into the config repo: %p", (path, value, expected) => {
    expect(pointsIntoConfig(APP, CONFIG, path, value)).toBe(expected);
  });

  test("parentPaths lists every ancestor, outermost first", () => {
    expect(parentPaths("a/b/c")).toEqual(["a", "a/b"]);
    expect(parentPaths("c")).toEqual([]);
  });
});

describe("planLinks", () => {
  test("missing targets are created; correct links kept; our links with another value relinked", () => {
    const result = plan({
      ".env": ours(".env"),
      "nginx.d": { kind: "dir" },
      "nginx.d/site.conf": { kind: "link", value: "/srv/shop app-config/nginx.d/site.conf" },
    });
    expect(result.actions.map((a) => [a.kind, a.path])).toEqual([
      ["keep", ".env"],
      ["relink", "nginx.d/site.conf"],
    ]);
    expect(result.conflicts).toEqual([]);
    expect(result.owned).toEqual([".env", "nginx.d/site.conf"]);
    expect(plan({}).actions.map((a) => a.kind)).toEqual(["create", "create"]);
  });

  test("every conflict is listed at once: real file, foreign link, directory, non-directory parent, tracked file", () => {
    const result = planLinks({
      appDir: APP,
      configDir: CONFIG,
      sources: [".env", "a", "b", "c/d", "c/e", "t"],
      targets: {
        ".env": { kind: "file" },
        a: { kind: "link", value: "/etc/hosts" },
        b: { kind: "dir" },
        c: { kind: "file" },
      },
      tracked: ["t"],
      owned: [],
    });
    expect(result.conflicts.map((c) => [c.kind, c.path])).toEqual([
      ["file", ".env"],
      ["foreign-link", "a"],
      ["directory", "b"],
      ["parent", "c"],
      ["tracked", "t"],
    ]);
    expect(conflictHint(result.conflicts)).toContain("--adopt");
  });

  test("--adopt resolves real files only; --force resolves real files and foreign links; neither resolves directories", () => {
    const targets: Record<string, TargetState> = {
      ".env": { kind: "file" },
      nginx: { kind: "dir" },
      x: { kind: "link", value: "/etc/hosts" },
    };
    const sources = [".env", "nginx", "x"];
    const adopt = plan(targets, { sources, resolve: "adopt" });
    expect(adopt.actions.map((a) => [a.kind, a.path])).toEqual([["adopt", ".env"]]);
    expect(adopt.conflicts.map((c) => c.path)).toEqual(["nginx", "x"]);
    const force = plan(targets, { sources, resolve: "force" });
    expect(force.actions.map((a) => [a.kind, a.path])).toEqual([
      ["force", ".env"],
      ["force", "x"],
    ]);
    expect(force.conflicts.map((c) => c.path)).toEqual(["nginx"]);
  });

  test("prune removes our links whose source is gone; without prune they stay owned", () => {
    const targets = {
      old: ours("old"),
      gone: { kind: "missing" } as TargetState,
      foreign: { kind: "file" } as TargetState,
    };
    const owned = ["old", "gone", "foreign"];
    const pruned = plan(targets, { owned, prune: true });
    expect(pruned.actions.filter((a) => a.kind === "remove").map((a) => a.path)).toEqual(["old"]);
    expect(pruned.owned).toEqual([".env", "nginx.d/site.conf"]);
    expect(plan(targets, { owned }).owned).toEqual([".env", "nginx.d/site.conf", "old"]);
  });
});
