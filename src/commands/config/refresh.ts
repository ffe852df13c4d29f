import { loadApp } from "../../lib/app/app.ts";
import { linkConfig } from "../../lib/config-repo/links.ts";
import { openConfigRepo } from "../../lib/config-repo/repo.ts";
import { showLinkReport } from "../../lib/config-repo/report.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { linkArgs, readResolve } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:refresh" },
  args: linkArgs,
  async run({ args }) {
    const app = loadApp(args.dir);
    const options = { resolve: readResolve(args), dryRun: args["dry-run"], prune: true };
    showLinkReport(await linkConfig(app, openConfigRepo(app), options), { json: args.json, dryRun: args["dry-run"] });
  },
});
