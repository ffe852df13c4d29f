import { loadApp } from "../../lib/app/app.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { printJson, printLines, renderTable, shortSha } from "../../lib/core/output.ts";
import { HOOK_POINTS, hookPlan } from "../../lib/deploy/hooks.ts";
import { nextDeploySettings } from "../../lib/node/protocol-json-at.ts";
import { dirArgs, jsonArgs } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "deploy:hooks" },
  args: {
    ...dirArgs,
    ...jsonArgs,
    "dry-run": { type: "boolean", description: "Show what the next deploy would run (the command never runs a hook)" },
  },
  async run({ args }) {
    const next = await nextDeploySettings(loadApp(args.dir));
    const plan = hookPlan(next.app);
    if (args.json) return printJson({ ...plan, incoming: next.incoming });
    const rows = HOOK_POINTS.flatMap((point) => {
      const steps = plan.steps.filter((s) => s.point === point);
      if (steps.length === 0) return [[point, "-", "", "(none)", "", ""]];
      return steps.map((s) => [
        point,
        String(s.step),
        s.where,
        s.command,
        `${s.timeoutSeconds}s`,
        s.env ? "+ .env" : "",
      ]);
    });
    printLines([
      ...(next.incoming
        ? [
            `the hooks of ${shortSha(next.incoming)}, the remote's commit the next deploy takes (its own govern it):`,
            "",
          ]
        : []),
      ...renderTable([["point", "step", "where", "command", "timeout", "env"], ...rows]),
      "",
      `each step's environment: ${plan.environment.join(", ")}`,
    ]);
  },
});
