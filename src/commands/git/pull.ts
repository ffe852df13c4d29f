import { loadApp } from "../../lib/app.ts";
import { defineProtocolCommand, parseWholeNumber } from "../../lib/command.ts";
import { assertWorkTree } from "../../lib/git.ts";
import { printJson } from "../../lib/output.ts";
import { syncNode } from "../../lib/sync.ts";
import { renderSyncOutcome, throwForOutcome } from "../../lib/sync-report.ts";
import { dirArgs, jsonArgs, policyArgs, readPolicies } from "../_args.ts";

export default defineProtocolCommand({
  meta: { name: "git:pull", description: "Sync once now: fetch and fast-forward the working copy (same safety rules as slave mode)" },
  args: {
    ...dirArgs,
    ...jsonArgs,
    ...policyArgs,
    wait: { type: "string", description: "Seconds to wait for another sync holding the lock (default 60; 0 fails at once)", valueHint: "seconds" },
  },
  async run({ args }) {
    const app = loadApp(args.dir);
    await assertWorkTree(app.dir);
    const waitSeconds = parseWholeNumber("wait", args.wait, 0) ?? 60;
    const outcome = await syncNode(app, { command: "git:pull", ...readPolicies(args), lockWaitMs: waitSeconds * 1000 });
    args.json ? printJson(outcome) : renderSyncOutcome(outcome);
    throwForOutcome(outcome);
  },
});
