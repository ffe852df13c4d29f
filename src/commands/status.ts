import { loadAppTolerant } from "../lib/app/app.ts";
import { defineProtocolCommand } from "../lib/core/command.ts";
import { log } from "../lib/core/log.ts";
import { printJson, printLines } from "../lib/core/output.ts";
import { readNodeStatus } from "../lib/node/status.ts";
import { renderStatus } from "../lib/node/status-render.ts";
import { dirArgs, jsonArgs } from "./_args.ts";

export default defineProtocolCommand({
  meta: { name: "status" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    // A broken protocol.json does not hide the node: what is known is shown, then the error (exit 3).
    const { app, error } = loadAppTolerant(args.dir);
    const status = { ...(await readNodeStatus(app)), configError: error?.message ?? null };
    args.json ? printJson(status) : printLines(renderStatus(status, log.level >= 4));
    if (error) throw error;
  },
});
