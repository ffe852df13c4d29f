import { describe, expect, test } from "bun:test";
import { homedir } from "node:os";
import { join } from "node:path";
import { renderTable, shortSha } from "../../src/lib/core/output.ts";
import { appKey, appPaths, appsRoot, stateHome } from "../../src/lib/core/paths.ts";

describe("renderTable", () => {
  test.each([
    ["nothing for no rows", [], []],
    ["a single cell as is", [["x"]], ["x"]],
    [
      "columns padded to the widest cell, two spaces apart",
      [
        ["APP", "STATE", "SHA"],
        ["shop", "synced", "abc12345"],
        ["api-gateway", "dirty", "-"],
      ],
      ["APP          STATE   SHA", "shop         synced  abc12345", "api-gateway  dirty   -"],
    ],
    [
      "no trailing spaces when the last cells are empty",
      [
        ["a", "", ""],
        ["bb", "c", ""],
      ],
      ["a", "bb  c"],
    ],
    [
      "rows with fewer cells, without padding their last cell",
      [
        ["name", "value", "note"],
        ["x", "1"],
      ],
      ["name  value  note", "x     1"],
    ],
  ])("renders %s", (_name, rows, expected) => {
    expect(renderTable(rows)).toEqual(expected);
  });

  test("starts every column at the same offset on every line", () => {
    const lines = renderTable([
      ["a", "bbbbbb", "c"],
      ["aaaa", "b", "cc"],
    ]);
    expect(lines.map((line) => line.indexOf(line.split(/\s+/)[1] ?? ""))).toEqual([6, 6]);
    expect(lines.map((line) => line.lastIndexOf(line.split(/\s+/)[2] ?? ""))).toEqual([14, 14]);
  });
});

describe("shortSha", () => {
  test.each([
    ["0123456789abcdef0123456789abcdef01234567", "01234567"],
    ["abc", "abc"],
    ["", "-"],
    [null, "-"],
    [undefined, "-"],
  ])("shortens %p to %p", (sha, expected) => {
    expect(shortSha(sha)).toBe(expected);
  });
});

describe("appKey", () => {
  test.each([
    ["/srv/shop", /^shop-[0-9a-f]{10}$/],
    ["/srv/my app (old)", /^my_app_old_-[0-9a-f]{10}$/],
    ["/srv/v1.2_x-y", /^v1\.2_x-y-[0-9a-f]{10}$/],
    ["/", /^app-[0-9a-f]{10}$/],
    [`/srv/${"n".repeat(60)}`, new RegExp(`^${"n".repeat(40)}-[0-9a-f]{10}$`)],
  ])("names %s readably: %p", (dir, pattern) => {
    expect(appKey(dir)).toMatch(pattern);
  });

  test("is stable for the same dir", () => {
    expect(appKey("/srv/shop")).toBe(appKey("/srv/shop"));
  });

  test("differs for dirs with the same name in different places", () => {
    expect(appKey("/srv/a/shop")).not.toBe(appKey("/srv/b/shop"));
  });

  test("is the sha-256 of the whole path, so it survives other processes computing it", () => {
    expect(appKey("/srv/shop")).toBe(
      `shop-${new Bun.CryptoHasher("sha256").update("/srv/shop").digest("hex").slice(0, 10)}`,
    );
  });
});

describe("stateHome", () => {
  test.each([
    ["PROTOCOL_HOME first", { PROTOCOL_HOME: "/p", XDG_STATE_HOME: "/x", HOME: "/h" }, "/p"],
    ["XDG_STATE_HOME/protocol without PROTOCOL_HOME", { XDG_STATE_HOME: "/x", HOME: "/h" }, "/x/protocol"],
    ["~/.local/state/protocol without either", { HOME: "/h" }, "/h/.local/state/protocol"],
    [
      "the next choice when PROTOCOL_HOME and XDG_STATE_HOME are empty",
      { PROTOCOL_HOME: "", XDG_STATE_HOME: "", HOME: "/h" },
      "/h/.local/state/protocol",
    ],
    ["the OS home dir without HOME", {}, join(homedir(), ".local", "state", "protocol")],
  ])("uses %s", (_name, env, expected) => {
    expect(stateHome(env)).toBe(expected);
  });

  test("reads process.env by default (the test preload's PROTOCOL_HOME)", () => {
    expect(stateHome()).toBe(process.env.PROTOCOL_HOME ?? "unset");
  });
});

describe("appPaths", () => {
  test("puts every file of an app under <home>/apps/<appKey>", () => {
    const root = join("/state", "apps", appKey("/srv/shop"));
    expect(appsRoot("/state")).toBe("/state/apps");
    expect(appPaths("/srv/shop", "/state")).toEqual({
      root,
      syncLock: join(root, "sync.lock"),
      slaveLock: join(root, "slave.lock"),
      status: join(root, "status.json"),
      deploys: join(root, "deploys.jsonl"),
      log: join(root, "slave.log"),
      registration: join(root, "app.json"),
      configSlaveLock: join(root, "config-slave.lock"),
      configLog: join(root, "config-slave.log"),
      configStatus: join(root, "config-status.json"),
      backups: join(root, "backups"),
    });
  });
});
