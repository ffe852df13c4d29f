import { loadApp } from "../../lib/node/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { assertNoConflicts, linkConfig } from "../../lib/config-repo/links.ts";
import { openConfigRepo } from "../../lib/config-repo/repo.ts";
import { logLinkReport, renderLinkPlan } from "../../lib/config-repo/report.ts";
import { printJson, printLines } from "../../lib/core/output.ts";
import { linkArgs, readResolve } from "./link.ts";

export default defineProtocolCommand({
  meta: { name: "config:refresh" },
  args: linkArgs,
  async run({ args }) {
    const app = loadApp(args.dir);
    const options = { resolve: readResolve(args), gitignore: args.gitignore, dryRun: args["dry-run"], prune: true };
    const report = await linkConfig(app, openConfigRepo(app), options);
    if (args.json) printJson(report);
    else if (args["dry-run"] || !report.applied) printLines(renderLinkPlan(report));
    assertNoConflicts(report.plan);
    if (!args.json && report.applied) logLinkReport(report);
  },
});
