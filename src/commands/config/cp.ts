import type { ArgsDef } from "citty";
import { loadApp } from "../../lib/node/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { copyIntoConfig } from "../../lib/config-repo/files.ts";
import { openConfigRepo } from "../../lib/config-repo/repo.ts";
import { renderCopyReport } from "../../lib/config-repo/report.ts";
import { printJson } from "../../lib/core/output.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

/** Shared with config:mv, which takes the same paths and flags. */
export const copyArgs = {
  paths: { type: "positional", required: true, description: "Files or directories inside the app", valueHint: "path…" },
  ...dirArgs,
  ...jsonArgs,
  untrack: { type: "boolean", description: "Allow files the app repo tracks: take them out of its index (git rm --cached)" },
} as const satisfies ArgsDef;

export default defineProtocolCommand({
  meta: { name: "config:cp" },
  args: copyArgs,
  async run({ args }) {
    const app = loadApp(args.dir);
    const report = await copyIntoConfig(app, openConfigRepo(app), args._, { cwd: process.cwd(), move: false, untrack: Boolean(args.untrack) });
    args.json ? printJson(report) : renderCopyReport(report, "copied");
  },
});
