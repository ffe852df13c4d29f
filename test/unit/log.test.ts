import { describe, expect, test } from "bun:test";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { renderLogLine, renderTerminalLine } from "../../src/lib/core/log.ts";
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
