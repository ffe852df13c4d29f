import { loadApp } from "../../lib/app/app.ts";
import { readDeploys } from "../../lib/app/state.ts";
import { parseWholeNumber, wholeNumberArg } from "../../lib/core/argv.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { printJson, printLines, renderTable, shortSha } from "../../lib/core/output.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

const limitArg = wholeNumberArg("Show only the last N deploys (default 20)", "n", {
  min: 1,
  unit: "deploys",
  example: 20,
});

export default defineProtocolCommand({
  meta: { name: "deploy:log" },
  args: {
    ...dirArgs,
    ...jsonArgs,
    limit: limitArg,
  },
  async run({ args }) {
    const limit = parseWholeNumber("limit", args.limit, limitArg.wholeNumber) ?? 20;
    const deploys = readDeploys(loadApp(args.dir).paths.deploys).slice(-limit);
    if (args.json) return printJson(deploys);
    if (deploys.length === 0) return printLines(["no deploys yet"]);
    const rows = deploys.map((d) => [
      d.startedAt,
      `${shortSha(d.from)} → ${shortSha(d.to)}`,
      d.reason,
      `${(d.durationMs / 1000).toFixed(1)}s`,
      d.rolledBackTo && d.result === "rolled-back" ? `rolled back to ${shortSha(d.rolledBackTo)}` : d.result,
      d.error ?? d.keptAs ?? "",
    ]);
    printLines(renderTable([["started", "commits", "why", "took", "result", "note"], ...rows]));
  },
});
