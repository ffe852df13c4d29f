import { loadApp } from "../../lib/app/app.ts";
import { assertEnvName, readMachineEnv } from "../../lib/config-repo/env.ts";
import { initConfigRepo } from "../../lib/config-repo/init.ts";
import { assertOwnConfigDir } from "../../lib/config-repo/owner.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { askText } from "../../lib/core/prompt.ts";
import { dirArgs, jsonArgs, yesArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:init" },
  args: {
    ...dirArgs,
    ...yesArgs,
    ...jsonArgs,
    remote: {
      type: "string",
      description: "Clone this URL (an empty remote gets the first commit, pushed)",
      valueHint: "url",
    },
    env: {
      type: "string",
      description: "The first environment (branch): default this machine's config:env, else production",
      valueHint: "env",
    },
    save: {
      type: "boolean",
      description: "Record configuration.local/remote in protocol.json (it is committed; a backup is kept)",
    },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    assertOwnConfigDir(app);
    const env = assertEnvName(args.env || readMachineEnv() || "production");
    let remote = args.remote || app.config.configuration?.remote;
    if (!remote && !args.yes)
      remote = await askText("Remote URL of the config repo (empty for a local repo only)?", "pass --remote <url>");
    // A person at config:init may give an empty remote its first environment.
    const report = await initConfigRepo(app, {
      env,
      remote: remote || undefined,
      save: Boolean(args.save),
      push: true,
    });
    if (args.json) return printJson(report);
    log.success(
      `${report.cloned ? "cloned" : "created"} the config repo ${report.dir} on ${report.branch}${report.pushed ? " (first commit pushed)" : ""}`,
    );
    if (report.protocolJson)
      log.info(
        `recorded in ${report.protocolJson.path}${report.protocolJson.backup ? ` (previous kept as ${report.protocolJson.backup})` : ""}; commit it`,
      );
    log.info("next: protocol config:cp <file> or config:mv <file>, then protocol config:save");
  },
});
