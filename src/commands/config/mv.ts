import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand } from "../../lib/command.ts";
import { copyIntoConfig } from "../../lib/config/files.ts";
import { openConfigRepo } from "../../lib/config/repo.ts";
import { renderCopyReport } from "../../lib/config/report.ts";
import { printJson } from "../../lib/output.ts";
import { copyArgs } from "./cp.ts";

export default defineProtocolCommand({
  meta: { name: "config:mv", description: "Move files or directories from the app into the config repo and link them back" },
  args: copyArgs,
  async run({ args }) {
    const app = loadApp(args.dir);
    const report = await copyIntoConfig(app, openConfigRepo(app), args._, { cwd: process.cwd(), move: true, untrack: Boolean(args.untrack) });
    args.json ? printJson(report) : renderCopyReport(report, "moved");
  },
});
