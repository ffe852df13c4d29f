import { loadApp } from "../../lib/app/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { addRebootEntry } from "../../lib/host/crontab.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "cron:add" },
  args: { ...dirArgs, ...jsonArgs },
  async run({ args }) {
    const app = loadApp(args.dir);
    const change = await addRebootEntry(app.dir);
    if (args.json) return printJson({ dir: app.dir, ...change });
    if (!change.changed) return log.info("the @reboot line is already in the crontab");
    log.success(`@reboot line added for ${app.dir}; previous crontab saved to ${change.backup}`);
  },
});
