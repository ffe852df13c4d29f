import { describe, expect, test } from "bun:test";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { LOG_LINE_MAX_CHARS, renderLogLine, renderTerminalLine } from "../../src/lib/core/log.ts";
import { renderJson } from "../../src/lib/core/output.ts";
import { isTerminal, styles } from "../../src/lib/core/terminal.ts";

const at = new Date("2026-12-01T10:00:00.000Z");

describe("log lines", () => {
  test("off a terminal: ISO time, the padded type, the words (an error by its message, data as JSON)", () => {
    expect(renderLogLine({ date: at, type: "info", args: ["moved", "a → b", new Error("why"), { n: 1 }] })).toBe(
      '2026-12-01T10:00:00.000Z info    moved a → b why {"n":1}',
    );
    expect(renderLogLine({ date: at, type: "success", args: ["deployed"] })).toBe(
      "2026-12-01T10:00:00.000Z success deployed",
    );
  });

  test("at a terminal: a symbol per type, the text as it is for other types", () => {
    expect(renderTerminalLine({ type: "success", args: ["wrote x"] })).toBe("✔ wrote x");
    expect(renderTerminalLine({ type: "warn", args: ["careful"] })).toBe("⚠ careful");
    expect(renderTerminalLine({ type: "error", args: ["broken"] })).toBe("✖ broken");
    expect(renderTerminalLine({ type: "log", args: ["plain"] })).toBe("plain");
  });
});

describe("a hostile value in a log line", () => {
  test("cannot start a line of its own, nor drive the terminal: control characters are shown escaped", () => {
    const line = renderLogLine({
      date: at,
      type: "info",
      args: ["linked x\n2026-12-01T10:00:01.000Z success deployed\r\u001b[2J"],
    });
    expect(line.split("\n")).toHaveLength(1);
    expect(line).toBe(
      "2026-12-01T10:00:00.000Z info    linked x\\n2026-12-01T10:00:01.000Z success deployed\\r\\u001b[2J",
    );
    expect(renderTerminalLine({ type: "warn", args: ["a\u0000b\tc"] })).toBe("⚠ a\\u0000b\tc");
  });

  test("--json output is the same JSON with no raw control character: C0 by JSON itself, DEL and C1 escaped too", () => {
    const value = { note: "a\u001b[2Jb\u009b31mc\u007fd\re" };
    const text = renderJson(value);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for exactly these.
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  test("a URL's user info never reaches the line, wherever the URL sits in the message", () => {
    expect(
      renderLogLine({
        date: at,
        type: "error",
        args: ["fatal: unable to access 'https://deploy:p@ss@git.example.com/app.git/': 403; also http://tok@h:8080/x"],
      }),
    ).toBe(
      "2026-12-01T10:00:00.000Z error   fatal: unable to access 'https://git.example.com/app.git/': 403; also http://h:8080/x",
    );
  });
});

describe("isTerminal", () => {
  test("a file, /dev/null and a closed descriptor are not terminals, so nothing is coloured", () => {
    const devNull = openSync("/dev/null", "w");
    const file = openSync(import.meta.path, "r");
    try {
      expect(isTerminal(devNull)).toBe(false);
      expect(isTerminal(file)).toBe(false);
    } finally {
      closeSync(devNull);
      closeSync(file);
    }
    expect(isTerminal(987_654)).toBe(false);
    expect(styles.red("x")).toBe("x");
  });

  test("a pseudo-terminal is one (util-linux script gives the child a pty)", async () => {
    const module = join(import.meta.dir, "../../src/lib/core/terminal.ts");
    const code = `import { isTerminal } from ${JSON.stringify(module)}; process.exitCode = isTerminal(1) && isTerminal(2) ? 0 : 3;`;
    const child = Bun.spawn(["script", "-qec", `${process.execPath} -e '${code}'`, "/dev/null"], {
      stdin: "ignore",
      stdout: "ignore",
    });
    expect(await child.exited).toBe(0);
  });
});

describe("a huge message", () => {
  test("is cut at 8 KB, saying how much was cut: one log line never holds megabytes", () => {
    const line = renderLogLine({ date: at, type: "error", args: ["x".repeat(3_000_000)] });
    expect(line.length).toBeLessThan(LOG_LINE_MAX_CHARS + 100);
    expect(line).toEndWith(`(${3_000_000 - LOG_LINE_MAX_CHARS} more characters cut)`);
  });
});
