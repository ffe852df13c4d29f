import { loadApp } from "../lib/app/app.ts";
import { defineProtocolCommand } from "../lib/core/command.ts";
import { execInService } from "../lib/docker/compose-attach.ts";
import { resolveService } from "../lib/docker/compose-service.ts";
import { dirArgs, serviceArgs } from "./_args.ts";

export default defineProtocolCommand({
  meta: { name: "exec" },
  args: {
    ...dirArgs,
    ...serviceArgs,
    command: {
      type: "positional",
      required: false,
      description: "The command and its arguments; put -- before a command with flags",
      valueHint: "cmd…",
    },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    const service = await resolveService(app, args.service);
    // args._ holds every positional word, including those after `--`.
    process.exitCode = await execInService(app, service, args._.map(String), Boolean(process.stdin.isTTY));
  },
});
