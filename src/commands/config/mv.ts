import { loadApp } from "../../lib/app/app.ts";
import { copyIntoConfig } from "../../lib/config-repo/files.ts";
import { openConfigRepo } from "../../lib/config-repo/repo.ts";
import { renderCopyReport } from "../../lib/config-repo/report.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { printJson } from "../../lib/core/output.ts";
import { copyArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:mv" },
  args: copyArgs,
  async run({ args }) {
    const app = loadApp(args.dir);
    const report = await copyIntoConfig(app, openConfigRepo(app), args._, {
      cwd: process.cwd(),
      move: true,
      untrack: Boolean(args.untrack),
    });
    args.json ? printJson(report) : renderCopyReport(report, "moved");
  },
});
