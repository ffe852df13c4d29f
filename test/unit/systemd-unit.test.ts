/** Issue 16: the systemd unit protocol writes, quoted so that no path or value can change its meaning. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quoteEnvironment, quoteExecWord, renderUnit, type UnitSpec, unitName } from "../../src/lib/host/systemd.ts";
import { sh } from "../helpers/fixture.ts";
import { testNeeding } from "../helpers/needs.ts";

const root = mkdtempSync(join(tmpdir(), "protocol unit $x %n-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const withAnalyze = testNeeding(
  Bun.which("systemd-analyze") ? null : "systemd-analyze is not installed (apt-get install systemd)",
);

const spec = (dir: string): UnitSpec => ({
  name: unitName(dir, "git"),
  description: "protocol slave mode for shop (100% up)",
  execStart: [process.execPath, "/opt/protocol/cli.ts", "git:slave", "--foreground", "--dir", dir],
  workingDirectory: dir,
  environment: { DOCKER_HOST: "unix:///run/docker.sock", HTTPS_PROXY: 'http://p:8080/"quoted"$HOME%h' },
  logPath: "/var/lib/protocol/slave.log",
  system: true,
});

describe("the unit file", () => {
  test("ExecStart words and Environment values are quoted, $ and % escaped; control characters are refused", () => {
    expect(quoteExecWord('a b"c\\d$e%f')).toBe('"a b\\"c\\\\d$$e%%f"');
    expect(quoteEnvironment("X", 'v "q" $H %n')).toBe('"X=v \\"q\\" $H %%n"');
    expect(() => quoteExecWord("a\nExecStartPre=/bin/evil")).toThrow("cannot go into a systemd unit");
    expect(() => quoteEnvironment("X", "a\nb")).toThrow("cannot go into a systemd unit");
    expect(() => quoteEnvironment("A-B", "x")).toThrow();
    const text = renderUnit(spec("/srv/my shop"));
    expect(text).toContain("WorkingDirectory=/srv/my shop\n");
    expect(text).toContain("Restart=always\n");
    expect(text).toContain("WantedBy=multi-user.target\n");
    expect(text).toContain('"--dir" "/srv/my shop"');
    expect(() => renderUnit(spec("relative/dir"))).toThrow("not absolute");
  });

  test("odd directory names stay one line each: a backslash or a blank at the end gets a '/', never a continuation", () => {
    const line = (dir: string) =>
      renderUnit(spec(dir))
        .split("\n")
        .find((l) => l.startsWith("WorkingDirectory="));
    expect(line("/srv/shop\\")).toBe("WorkingDirectory=/srv/shop\\/");
    expect(line("/srv/shop ")).toBe("WorkingDirectory=/srv/shop /");
    expect(line('/srv/a "b" $c %d')).toBe('WorkingDirectory=/srv/a "b" $c %%d');
    const description = (text: string) =>
      renderUnit({ ...spec("/srv/x"), description: text })
        .split("\n")
        .find((l) => l.startsWith("Description="));
    expect(description("shop\\")).toBe("Description=shop\\\\");
    expect(description("shop\\\\")).toBe("Description=shop\\\\");
    expect(description("shop\nExecStartPre=/bin/evil")).toBe("Description=shop\\nExecStartPre=/bin/evil");
  });

  // systemd-analyze verify does not notice a swallowed Environment= line; it does notice a swallowed
  // ExecStart=, so each odd name's WorkingDirectory= line is checked in front of ExecStart=.
  for (const name of ["ends in a backslash\\", "ends in a blank ", 'has "quotes" and \\ inside', "has $HOME and %n"])
    withAnalyze(`systemd reads the unit of a dir that ${name.trim()} as written (systemd-analyze verify)`, async () => {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      const lines = renderUnit({ ...spec(dir), logPath: join(tmpdir(), "slave.log") }).split("\n");
      const working = lines.findIndex((l) => l.startsWith("WorkingDirectory="));
      const exec = lines.findIndex((l) => l.startsWith("ExecStart="));
      const [moved] = lines.splice(working, 1);
      lines.splice(exec, 0, moved!);
      const path = join(root, "protocol-odd.service");
      writeFileSync(path, lines.join("\n"));
      const verify = await sh(["systemd-analyze", "verify", path]);
      expect(verify.exitCode, verify.stderr).toBe(0);
    });

  withAnalyze("passes systemd-analyze verify, with a path holding a space, $ and %", async () => {
    const dir = join(root, "app");
    mkdirSync(dir, { recursive: true });
    const path = join(root, "protocol-test.service");
    writeFileSync(path, renderUnit({ ...spec(dir), logPath: join(tmpdir(), "slave.log") }));
    const verify = await sh(["systemd-analyze", "verify", path]);
    expect(verify.exitCode, verify.stderr).toBe(0);
  });
});
