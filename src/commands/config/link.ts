import { loadApp } from "../../lib/node/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { assertNoConflicts, linkConfig } from "../../lib/config-repo/links.ts";
import { openConfigRepo } from "../../lib/config-repo/repo.ts";
import { logLinkReport, renderLinkPlan } from "../../lib/config-repo/report.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { printJson, printLines } from "../../lib/core/output.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export const linkArgs = {
  ...dirArgs,
  ...jsonArgs,
  "dry-run": { type: "boolean", description: "Print the plan (links, conflicts) and change nothing" },
  adopt: { type: "boolean", description: "Move app files in the way into the config repo first (backed up), then link" },
  force: { type: "boolean", description: "Back up app files or foreign links in the way (path printed) and link over them" },
  gitignore: { type: "boolean", description: "Ignore the links in a marked block of .gitignore instead of .git/info/exclude" },
} as const;

export function readResolve(args: { adopt?: boolean; force?: boolean }): "none" | "adopt" | "force" {
  if (args.adopt && args.force) throw new UsageError("--adopt and --force cannot be used together");
  return args.adopt ? "adopt" : args.force ? "force" : "none";
}

export default defineProtocolCommand({
  meta: { name: "config:link" },
  args: linkArgs,
  async run({ args }) {
    const app = loadApp(args.dir);
    const report = await linkConfig(app, openConfigRepo(app), { resolve: readResolve(args), gitignore: args.gitignore, dryRun: args["dry-run"] });
    if (args.json) printJson(report);
    else if (args["dry-run"] || !report.applied) printLines(renderLinkPlan(report));
    assertNoConflicts(report.plan);
    if (!args.json && report.applied) logLinkReport(report);
  },
});
