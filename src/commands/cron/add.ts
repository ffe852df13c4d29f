import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand } from "../../lib/command.ts";
import { addRebootEntry } from "../../lib/crontab.ts";
import { log } from "../../lib/log.ts";
import { printJson } from "../../lib/output.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "cron:add", description: "Add the app's @reboot protocol restart line to the crontab (marked block; idempotent)" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const app = loadApp(args.dir);
    const change = await addRebootEntry(app.dir);
    if (args.json) return printJson({ dir: app.dir, ...change });
    if (!change.changed) return log.info("the @reboot line is already in the crontab");
    log.success(`@reboot line added for ${app.dir}; previous crontab saved to ${change.backup}`);
  },
});
