import { loadApp } from "../../lib/app/app.ts";
import { saveConfig } from "../../lib/config-repo/envs.ts";
import { openConfigRepo } from "../../lib/config-repo/repo.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson, shortSha } from "../../lib/core/output.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:save" },
  args: {
    ...dirArgs,
    ...jsonArgs,
    message: {
      type: "string",
      alias: "m",
      description: "The commit message (default: names the environment and this host)",
      valueHint: "msg",
    },
  },
  async run({ args }) {
    const report = await saveConfig(openConfigRepo(loadApp(args.dir)), args.message);
    if (args.json) return printJson(report);
    if (!report.committed && !report.pushed)
      return log.success(`nothing to save: ${report.branch} is clean${report.remote ? " and pushed" : ""}`);
    if (report.committed) log.success(`committed ${report.branch} at ${shortSha(report.commit)}`);
    if (report.pushed) log.success(`pushed ${report.branch}`);
    else if (!report.remote) log.warn("the config repo has no remote: committed here only");
  },
});
