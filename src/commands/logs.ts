import { loadApp } from "../lib/app/app.ts";
import { parseWholeNumber, wholeNumberArg } from "../lib/core/argv.ts";
import { defineProtocolCommand } from "../lib/core/command.ts";
import { printText } from "../lib/core/output.ts";
import { followLog, lastLines } from "../lib/node/logs.ts";
import { dirArgs } from "./_args.ts";

// At least 1, as deploy:log --limit: a count of 0 is refused the same way by both (README, strict command lines).
const linesArg = wholeNumberArg("How many of the last lines to print (default 50)", "n", {
  min: 1,
  unit: "lines",
  example: 50,
});

export default defineProtocolCommand({
  meta: { name: "logs" },
  args: {
    ...dirArgs,
    follow: { type: "boolean", alias: "f", description: "Keep printing what the loop writes (Ctrl-C ends it)" },
    config: {
      type: "boolean",
      description: "An older protocol's separate config loop's log (config-slave.log); the one loop writes slave.log",
    },
    lines: { ...linesArg, alias: "n" },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    const path = args.config ? app.paths.configLog : app.paths.log;
    const count = parseWholeNumber("lines", args.lines, linesArg.wholeNumber) ?? 50;
    const lines = lastLines(path, count);
    if (lines.length > 0) printText(`${lines.join("\n")}\n`);
    if (!args.follow) return;
    const stop = new AbortController();
    const end = () => stop.abort();
    process.once("SIGINT", end);
    process.once("SIGTERM", end);
    await followLog(path, (text) => process.stdout.write(text), stop.signal);
  },
});
