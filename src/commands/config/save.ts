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
    adopt: {
      type: "boolean",
      description:
        "Move linked files that became real files (sed -i, an editor) into the config repo (backed up), link them again, then save",
    },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    const report = await saveConfig(app, openConfigRepo(app), { message: args.message, adopt: args.adopt });
    if (args.json) return printJson(report);
    for (const backup of report.backups) log.info(`backed up ${backup.path} to ${backup.backup}`);
    if (report.adopted.length > 0)
      log.success(`adopted ${report.adopted.join(", ")} into the config repo, linked again`);
    if (!report.committed && !report.pushed)
      return log.success(`nothing to save: ${report.branch} is clean${report.remote ? " and pushed" : ""}`);
    if (report.committed) log.success(`committed ${report.branch} at ${shortSha(report.commit)}`);
    if (report.pushed) log.success(`pushed ${report.branch}`);
    else if (!report.remote) log.warn("the config repo has no remote: committed here only");
  },
});
