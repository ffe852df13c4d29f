import { loadApp } from "../../lib/app/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { removeRebootEntry } from "../../lib/host/crontab.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "cron:remove" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const app = loadApp(args.dir);
    const change = await removeRebootEntry(app.dir);
    if (args.json) return printJson({ dir: app.dir, ...change });
    if (!change.changed) return log.info("there was no @reboot line for this app");
    log.success(`@reboot line removed for ${app.dir}; previous crontab saved to ${change.backup}`);
  },
});
