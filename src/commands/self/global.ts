import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson } from "../../lib/core/output.ts";
import { installGlobal } from "../../lib/release/self-global.ts";
import { jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "self:global" },
  args: {
    dir: {
      type: "string",
      description:
        "Install into this directory (default: PROTOCOL_INSTALL_DIR, /usr/local/bin as root, else ~/.local/bin)",
      valueHint: "path",
    },
    link: { type: "boolean", description: "Symlink to this binary instead of copying it" },
    ...jsonArgs,
  },
  async run({ args }) {
    const installed = await installGlobal({ dir: args.dir, link: args.link });
    if (args.json) printJson(installed);
    else if (installed.changed)
      log.success(`${installed.mode === "link" ? "linked" : "copied"} ${installed.source} to ${installed.path}`);
    else log.info(`${installed.path} is already this binary`);
    if (!installed.onPath) log.warn(`${installed.path} is not on PATH: add its directory to PATH (e.g. in ~/.profile)`);
  },
});
