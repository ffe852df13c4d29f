import { loadApp } from "../../lib/app/app.ts";
import { parseWholeNumber, wholeNumberArg } from "../../lib/core/argv.ts";
import { defineProtocolCommand } from "../../lib/core/command.ts";
import { printJson } from "../../lib/core/output.ts";
import { assertWorkTree } from "../../lib/git/git.ts";
import { runPass } from "../../lib/node/pass.ts";
import { renderSyncOutcome, throwForOutcome } from "../../lib/node/sync-report.ts";
import { dirArgs, jsonArgs, policyArgs, readPolicies } from "../_args.ts";

const waitArg = wholeNumberArg(
  "Seconds to wait for another sync holding the lock (default 60; 0 fails at once)",
  "seconds",
  { min: 0, unit: "seconds", example: 60 },
);

export default defineProtocolCommand({
  meta: { name: "git:pull" },
  args: {
    ...dirArgs,
    ...jsonArgs,
    ...policyArgs,
    wait: waitArg,
    now: {
      type: "boolean",
      description: "Deploy a new commit at once: no waiting for this node's rollout wave, no canary hold or freeze",
    },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    await assertWorkTree(app.dir);
    const waitSeconds = parseWholeNumber("wait", args.wait, waitArg.wholeNumber) ?? 60;
    const outcome = await runPass(app, {
      command: "git:pull",
      ...readPolicies(args),
      lockWaitMs: waitSeconds * 1000,
      rollout: !args.now,
    });
    args.json ? printJson(outcome) : renderSyncOutcome(outcome);
    throwForOutcome(outcome);
  },
});
