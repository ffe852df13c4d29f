import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand } from "../../lib/command.ts";
import { removeRebootEntry } from "../../lib/crontab.ts";
import { log } from "../../lib/log.ts";
import { printJson } from "../../lib/output.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "cron:remove", description: "Remove the app's @reboot line from the crontab (other lines are kept)" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const app = loadApp(args.dir);
    const change = await removeRebootEntry(app.dir);
    if (args.json) return printJson({ dir: app.dir, ...change });
    if (!change.changed) return log.info("there was no @reboot line for this app");
    log.success(`@reboot line removed for ${app.dir}; previous crontab saved to ${change.backup}`);
  },
});
