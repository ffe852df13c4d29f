import { loadApp } from "../../lib/app/app.ts";
import { unlinkConfig } from "../../lib/config-repo/links.ts";
import { openConfigRepo } from "../../lib/config-repo/repo.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:unlink" },
  args: {
    ...dirArgs,
    ...jsonArgs,
    "dry-run": { type: "boolean", description: "Say what would be removed and change nothing" },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    const report = await unlinkConfig(app, openConfigRepo(app), { dryRun: args["dry-run"] });
    if (args.json) return printJson(report);
    log.success(
      `${args["dry-run"] ? "would remove" : "removed"} ${report.removed.length} link(s)${report.removed.length ? `: ${report.removed.join(", ")}` : ""}`,
    );
    if (report.skipped.length) log.info(`left alone (not links into the config repo): ${report.skipped.join(", ")}`);
  },
});
