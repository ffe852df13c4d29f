import { describe, expect, test } from "bun:test";
import {
  CRON_BEGIN,
  CRON_END,
  type CronEntry,
  cronQuote,
  parseCrontab,
  renderCrontab,
  renderRebootLine,
  withCronEntry,
  withoutCronEntry,
} from "../../src/lib/host/cron-block.ts";

const FOREIGN_BEFORE =
  "# m h dom mon dow command\nMAILTO=ops@example.com\n*/5 * * * * /usr/local/bin/backup --quiet   \n\n";
const FOREIGN_AFTER = "0 3 * * * certbot renew\t# trailing tab above\n";

const api: CronEntry = {
  dir: "/srv/api",
  line: "@reboot '/usr/bin/protocol' restart '/srv/api' >> '/tmp/api.log' 2>&1",
};
const web: CronEntry = {
  dir: "/srv/web",
  line: "@reboot '/usr/bin/protocol' restart '/srv/web' >> '/tmp/web.log' 2>&1",
};
const spaced: CronEntry = {
  dir: "/srv/my app",
  line: "@reboot '/usr/bin/protocol' restart '/srv/my app' >> '/tmp/my app.log' 2>&1",
};

function block(...entries: CronEntry[]): string {
  return [CRON_BEGIN, ...entries.flatMap((e) => [`# app: ${e.dir}`, e.line]), CRON_END, ""].join("\n");
}

describe("parseCrontab / renderCrontab", () => {
  test.each([
    ["an empty crontab", ""],
    ["a crontab without a block", FOREIGN_BEFORE],
    ["a crontab with blank lines at the end", "* * * * * true\n\n\n"],
    ["a block alone", block(api)],
    ["a block between foreign lines", FOREIGN_BEFORE + block(api, web) + FOREIGN_AFTER],
    ["a block holding a dir with spaces", block(spaced)],
  ])("round-trips %s unchanged", (_name, text) => {
    expect(renderCrontab(parseCrontab(text))).toBe(text);
  });

  test("reads each app's dir and @reboot line from the block", () => {
    const parsed = parseCrontab(FOREIGN_BEFORE + block(api, spaced) + FOREIGN_AFTER);
    expect(parsed.entries).toEqual([api, spaced]);
    expect(parsed.before).toEqual(FOREIGN_BEFORE.split("\n").slice(0, -1));
    expect(parsed.after).toEqual(["0 3 * * * certbot renew\t# trailing tab above"]);
  });

  test("treats a BEGIN marker without an END marker as foreign text", () => {
    const text = `${CRON_BEGIN}\n# app: /srv/api\n@reboot x\n`;
    expect(parseCrontab(text)).toEqual({
      before: [CRON_BEGIN, "# app: /srv/api", "@reboot x"],
      entries: [],
      after: [],
    });
  });

  test("renders no markers when there are no entries", () => {
    expect(renderCrontab({ before: ["a"], entries: [], after: ["b"] })).toBe("a\nb\n");
    expect(renderCrontab({ before: [], entries: [], after: [] })).toBe("");
  });
});

describe("withCronEntry", () => {
  test("adds a marked block to an empty crontab", () => {
    expect(withCronEntry("", api)).toBe(block(api));
  });

  test("gives the same text when the same entry is added twice", () => {
    const once = withCronEntry(FOREIGN_BEFORE + FOREIGN_AFTER, api);
    expect(withCronEntry(once, api)).toBe(once);
  });

  test("keeps lines outside the marked block byte for byte", () => {
    const text = FOREIGN_BEFORE + block(web) + FOREIGN_AFTER;
    expect(withCronEntry(text, api)).toBe(FOREIGN_BEFORE + block(api, web) + FOREIGN_AFTER);
  });

  test("appends the block after foreign lines when there is none yet", () => {
    expect(withCronEntry(FOREIGN_BEFORE, web)).toBe(FOREIGN_BEFORE + block(web));
  });

  test("adds a newline to a foreign last line that lacks one, and nothing else", () => {
    expect(withCronEntry("* * * * * true", api)).toBe(`* * * * * true\n${block(api)}`);
  });

  test("replaces the line of an app that is already there instead of adding a second", () => {
    const updated = { dir: api.dir, line: "@reboot 'new' restart '/srv/api'" };
    expect(withCronEntry(block(api, web), updated)).toBe(block(updated, web));
  });

  test("orders entries by dir, whatever order they were added in", () => {
    expect(withCronEntry(withCronEntry("", web), api)).toBe(withCronEntry(withCronEntry("", api), web));
  });

  test("keeps a dir with spaces as one entry", () => {
    const text = withCronEntry(withCronEntry("", spaced), spaced);
    expect(text).toBe(block(spaced));
    expect(parseCrontab(text).entries).toEqual([spaced]);
  });
});

describe("withoutCronEntry", () => {
  test("removes only that dir's entry", () => {
    const text = FOREIGN_BEFORE + block(api, spaced, web) + FOREIGN_AFTER;
    expect(withoutCronEntry(text, "/srv/my app")).toBe(FOREIGN_BEFORE + block(api, web) + FOREIGN_AFTER);
  });

  test("does not remove a dir that only shares a prefix", () => {
    const text = block(api);
    expect(withoutCronEntry(text, "/srv/ap")).toBe(text);
  });

  test("drops the markers when the last entry goes, keeping foreign lines byte for byte", () => {
    expect(withoutCronEntry(FOREIGN_BEFORE + block(api) + FOREIGN_AFTER, api.dir)).toBe(FOREIGN_BEFORE + FOREIGN_AFTER);
  });

  test("leaves an empty crontab when the block was all there was", () => {
    expect(withoutCronEntry(block(api), api.dir)).toBe("");
  });

  test("leaves a crontab without a block unchanged", () => {
    expect(withoutCronEntry(FOREIGN_BEFORE, api.dir)).toBe(FOREIGN_BEFORE);
  });

  test("undoes withCronEntry", () => {
    const text = FOREIGN_BEFORE + FOREIGN_AFTER;
    expect(withoutCronEntry(withCronEntry(text, spaced), spaced.dir)).toBe(text);
  });
});

describe("cronQuote", () => {
  test.each([
    ["/usr/bin/protocol", "'/usr/bin/protocol'"],
    ["/srv/my app", "'/srv/my app'"],
    ["it's", `'it'\\''s'`],
    ["50%", "'50\\%'"],
    ["a'%b%", `'a'\\''\\%b\\%'`],
    ["", "''"],
    ["$HOME `id`", "'$HOME `id`'"],
  ])("quotes %j as %s", (word, expected) => {
    expect(cronQuote(word)).toBe(expected);
  });

  test("survives sh -c after cron turns \\% into %", async () => {
    const word = "it's 100% $HOME";
    // cron strips the backslash before an escaped %, then runs the line with sh -c.
    const line = `printf %s ${cronQuote(word)}`.replaceAll("\\%", "%");
    const child = Bun.spawn(["sh", "-c", line], { stdout: "pipe" });
    expect(await new Response(child.stdout).text()).toBe(word);
  });
});

describe("renderRebootLine", () => {
  const argv = ["/usr/local/bin/protocol"];

  test("quotes the program, dir and log path and appends stderr to the log", () => {
    expect(renderRebootLine(argv, "/srv/my app", "/var/log/p.log", {})).toBe(
      "@reboot '/usr/local/bin/protocol' restart '/srv/my app' >> '/var/log/p.log' 2>&1",
    );
  });

  test("includes PATH when given", () => {
    expect(renderRebootLine(argv, "/srv/a", "/l", { PATH: "/usr/bin:/bin" })).toBe(
      "@reboot PATH='/usr/bin:/bin' '/usr/local/bin/protocol' restart '/srv/a' >> '/l' 2>&1",
    );
  });

  test("includes PROTOCOL_HOME after PATH when both are given", () => {
    expect(renderRebootLine(argv, "/srv/a", "/l", { PATH: "/bin", PROTOCOL_HOME: "/opt/p home" })).toBe(
      "@reboot PATH='/bin' PROTOCOL_HOME='/opt/p home' '/usr/local/bin/protocol' restart '/srv/a' >> '/l' 2>&1",
    );
  });

  test.each([
    ["undefined", { PATH: undefined, PROTOCOL_HOME: undefined }],
    ["empty", { PATH: "", PROTOCOL_HOME: "" }],
  ])("leaves out PATH and PROTOCOL_HOME when %s", (_name, env) => {
    const line = renderRebootLine(argv, "/srv/a", "/l", env);
    expect(line).not.toContain("PATH=");
    expect(line).not.toContain("PROTOCOL_HOME=");
  });

  test("quotes every word of a multi-word program (bun + script)", () => {
    expect(renderRebootLine(["/usr/bin/bun", "/opt/protocol/src/cli.ts"], "/srv/a", "/l", {})).toBe(
      "@reboot '/usr/bin/bun' '/opt/protocol/src/cli.ts' restart '/srv/a' >> '/l' 2>&1",
    );
  });

  test("escapes % in the dir so cron does not cut the line", () => {
    expect(renderRebootLine(argv, "/srv/100%", "/l", {})).toContain("restart '/srv/100\\%'");
  });
});
