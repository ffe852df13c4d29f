import { describe, expect, test } from "bun:test";
import {
  type Check,
  composeCheck,
  diskCheck,
  dockerEngineCheck,
  doctorReport,
  formatBytes,
  gitVersionCheck,
  renderChecks,
  renderSummary,
} from "../../src/lib/host/doctor.ts";

const GiB = 1024 ** 3;

describe("renderChecks", () => {
  test("one aligned line per check: ✔, ✖ with its fix, - for skipped", () => {
    const checks: Check[] = [
      { name: "git", ok: true, detail: "git 2.39.2" },
      { name: "docker engine", ok: false, detail: "cannot connect", fix: "start docker" },
      { name: "known_hosts", ok: true, skipped: true, detail: "not needed" },
    ];
    expect(renderChecks(checks)).toEqual([
      "✔  git            git 2.39.2",
      "✖  docker engine  cannot connect — fix: start docker",
      "-  known_hosts    not needed",
    ]);
  });

  test("what others wrote is shown escaped: a CR or an escape sequence in a detail cannot forge a line", () => {
    const lines = renderChecks([{ name: "status remote", ok: true, detail: "node x\r\u001b[2K✔  all fine\u0007" }]);
    expect(lines).toEqual(["✔  status remote  node x\\r\\u001b[2K✔  all fine\\u0007"]);
  });

  test("a passing check never shows its fix", () => {
    expect(renderChecks([{ name: "a", ok: true, detail: "fine", fix: "unused" }])).toEqual(["✔  a  fine"]);
  });
});

describe("renderSummary and doctorReport", () => {
  const ok: Check = { name: "git", ok: true, detail: "" };
  const failed: Check = { name: "crontab", ok: false, detail: "" };
  const warning: Check = { name: "compose v2", ok: false, severity: "warning", detail: "" };

  test.each([
    [[ok], "all checks passed", true],
    [[ok, warning], "all checks passed (1 warning)", true],
    [[ok, failed], "1 of 2 checks failed: crontab", false],
    [[failed, warning, { ...failed, name: "remote" }], "2 of 3 checks failed (1 warning): crontab, remote", false],
  ] as const)("%j → %s", (checks, summary, passed) => {
    expect(renderSummary(checks)).toBe(summary);
    expect(doctorReport([...checks]).ok).toBe(passed);
  });
});

describe("gitVersionCheck", () => {
  test.each([
    ["git version 2.39.2\n", true, "git 2.39.2"],
    ["git version 2.31.0", true, "git 2.31.0"],
    ["git version 2.30.2", false, "git 2.30.2 is older than 2.31"],
    ["git version 1.8.3.1", false, "git 1.8.3 is older than 2.31"],
    ["git version 3.0", true, "git 3.0"],
    ["what", false, 'cannot read the version from "what"'],
  ])("%j → ok %p", (stdout, ok, detail) => {
    expect(gitVersionCheck(stdout)).toMatchObject({ ok, detail });
  });

  test("a missing git fails with an install fix", () => {
    expect(gitVersionCheck(null)).toMatchObject({
      ok: false,
      detail: "git is not installed",
      fix: expect.stringContaining("apt-get install git"),
    });
  });
});

describe("dockerEngineCheck", () => {
  const result = (ok: boolean, stdout: string, stderr = "") => ({ ok, stdout, stderr });

  test.each([
    [
      result(true, '{"Client":{"Version":"28.0.0"},"Server":{"Version":"20.10.24"}}'),
      true,
      "engine 20.10.24 reachable",
    ],
    [
      result(
        false,
        '{"Client":{"Version":"28.0.0"},"Server":null}',
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
      ),
      false,
      "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
    ],
    [
      result(false, "", "permission denied while trying to connect to the Docker daemon socket\n"),
      false,
      "permission denied while trying to connect to the Docker daemon socket",
    ],
    [result(true, "not json"), false, "no answer from the engine"],
  ])("%j → ok %p", (input, ok, detail) => {
    const check = dockerEngineCheck(input);
    expect(check).toMatchObject({ ok, detail });
    if (!ok) expect(check.fix).toContain("docker group");
  });

  test("a missing docker client says it is not installed", () => {
    expect(dockerEngineCheck(null)).toMatchObject({ ok: false, detail: "docker is not installed" });
  });
});

describe("composeCheck", () => {
  test("compose v2 passes with its version", () => {
    expect(composeCheck("Docker Compose version v2.29.0\n", null)).toEqual({
      name: "compose v2",
      ok: true,
      detail: "docker compose 2.29.0",
    });
  });

  test("compose v1 only is a warning with a fix (protocol falls back to it)", () => {
    expect(composeCheck(null, "docker-compose version 1.29.2, build unknown\n")).toMatchObject({
      ok: false,
      severity: "warning",
      detail: expect.stringContaining("1.29.2"),
      fix: expect.stringContaining("compose v2 plugin"),
    });
  });

  test("neither is a failure", () => {
    const check = composeCheck(null, null);
    expect(check.ok).toBe(false);
    expect(check.severity).toBeUndefined();
  });
});

describe("diskCheck and formatBytes", () => {
  test.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1536, "1.5 KiB"],
    [5 * GiB, "5.0 GiB"],
    [3 * 1024 * GiB, "3.0 TiB"],
  ])("formatBytes(%p) = %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  test.each([
    [2 * GiB, true],
    [GiB, true],
    [GiB - 1, false],
  ])("%p bytes free → ok %p", (free, ok) => {
    const check = diskCheck("disk (app)", "/srv/app", { free, total: 50 * GiB });
    expect(check.ok).toBe(ok);
    expect(check.detail).toContain("free of 50.0 GiB in /srv/app");
    if (!ok) expect(check.fix).toContain("docker image prune");
  });
});
