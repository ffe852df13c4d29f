import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { Fixture, REPO_ROOT, sh } from "../helpers/fixture.ts";

let out: string;
let binary: string;
beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "protocol-bin-"));
  binary = join(out, "protocol");
  const built = await sh([process.execPath, join(REPO_ROOT, "scripts", "build.ts"), "--outfile", binary]);
  expect(built.exitCode).toBe(0);
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("the compiled binary (smoke)", () => {
  test("runs --version and status, and ignores the app dir's .env and bunfig.toml", async () => {
    await using fx = await Fixture.create();
    const version = await sh([binary, "--version"]);
    expect(version.exitCode).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);

    // If the binary auto-loaded these, PROTOCOL_HOME would point at the trap, or the preload would run.
    const trap = join(fx.root, "trap");
    writeFileSync(join(fx.node, ".env"), `PROTOCOL_HOME=${trap}\n`);
    writeFileSync(join(fx.node, "bunfig.toml"), 'preload = ["./evil.ts"]\n');
    writeFileSync(
      join(fx.node, "evil.ts"),
      `require("node:fs").writeFileSync(${JSON.stringify(join(fx.root, "evil-ran"))}, "1");\n`,
    );
    const status = await sh([binary, "status", "--json"], { cwd: fx.node, env: fx.env });
    expect(status.exitCode).toBe(0);
    const json = JSON.parse(status.stdout);
    expect(json.dir).toBe(fx.node);
    expect(json.stateDir).toStartWith(fx.env.PROTOCOL_HOME!);
    expect(existsSync(join(fx.root, "evil-ran"))).toBe(false);
  });

  test("runs a sync, prints usage and reports errors as the source does (its chunks and citty's consola stand-in)", async () => {
    await using fx = await Fixture.create();
    const pushed = await fx.push({ "README.md": "v2\n" });
    const pull = await sh([binary, "git:pull", "--dir", fx.node], { env: fx.env });
    expect(pull.exitCode).toBe(0);
    expect(await fx.head()).toBe(pushed);
    expect(pull.stderr).toMatch(/^\d{4}-\d\d-\d\dT\S+ (info|success) /m);

    const usage = await sh([binary, "status", "--help"]);
    expect(usage.exitCode).toBe(0);
    expect(usage.stdout).toContain("USAGE protocol status");
    expect(usage.stdout).toContain("--json");
    expect(usage.stdout).not.toContain("\x1b[");
    const root = await sh([binary, "--help"]);
    expect(root.stdout).toContain("git:pull");

    const bad = await sh([binary, "status", "--dir", join(fx.root, "missing")]);
    expect(bad.exitCode).toBe(4);
    expect(bad.stderr).toMatch(/^error: app directory .*missing does not exist\nhint: {2}/);
  });
});
