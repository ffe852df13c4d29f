import { loadApp } from "../../lib/app/app.ts";
import { newEnv } from "../../lib/config-repo/envs.ts";
import { openConfigRepo } from "../../lib/config-repo/repo.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { log } from "../../lib/core/log.ts";
import { printJson, shortSha } from "../../lib/core/output.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "config:new" },
  args: {
    env: {
      type: "positional",
      required: true,
      description: "The new environment's name, e.g. staging or localhost-jane",
      valueHint: "env",
    },
    ...dirArgs,
    ...jsonArgs,
    empty: { type: "boolean", description: "Start the environment with no files instead of a copy of the current one" },
  },
  async run({ args }) {
    const created = await newEnv(openConfigRepo(loadApp(args.dir)), args.env, { empty: Boolean(args.empty) });
    if (args.json) return printJson(created);
    log.success(
      `environment ${created.env} created ${created.from ? `from ${created.from}` : "empty"} at ${shortSha(created.commit)}`,
    );
    log.info(`switch to it with protocol config:switch ${created.env}; config:save pushes it`);
  },
});
