import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand } from "../../lib/command.ts";
import { saveConfig } from "../../lib/config/envs.ts";
import { openConfigRepo } from "../../lib/config/repo.ts";
import { log } from "../../lib/log.ts";
import { printJson, shortSha } from "../../lib/output.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:save", description: "Commit every change in the config repo and push the environment's branch" },
  args: {
    ...dirArgs,
    ...jsonArgs,
    message: { type: "string", alias: "m", description: "The commit message (default: names the environment and this host)", valueHint: "msg" },
  },
  async run({ args }) {
    const report = await saveConfig(openConfigRepo(loadApp(args.dir)), args.message);
    if (args.json) return printJson(report);
    if (!report.committed && !report.pushed) return log.success(`nothing to save: ${report.branch} is clean${report.remote ? " and pushed" : ""}`);
    if (report.committed) log.success(`committed ${report.branch} at ${shortSha(report.commit)}`);
    if (report.pushed) log.success(`pushed ${report.branch}`);
    else if (!report.remote) log.warn("the config repo has no remote: committed here only");
  },
});
