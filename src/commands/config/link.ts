import { loadApp } from "../../lib/app/app.ts";
import { linkConfig } from "../../lib/config-repo/links.ts";
import { assertOwnConfigDir } from "../../lib/config-repo/owner.ts";
import { openConfigRepo } from "../../lib/config-repo/repo.ts";
import { showLinkReport } from "../../lib/config-repo/report.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { linkArgs, readResolve } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:link" },
  args: linkArgs,
  async run({ args }) {
    const app = loadApp(args.dir);
    assertOwnConfigDir(app);
    const report = await linkConfig(app, openConfigRepo(app), {
      resolve: readResolve(args),
      dryRun: args["dry-run"],
    });
    showLinkReport(report, { json: args.json, dryRun: args["dry-run"] });
  },
});
