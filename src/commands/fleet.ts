import { parseWholeNumber, wholeNumberArg } from "../lib/core/argv.ts";
import { defineProtocolCommand } from "../lib/core/command.ts";
import { printJson, printLines } from "../lib/core/output.ts";
import { fleetLocation } from "../lib/fleet/location.ts";
import { readFleet } from "../lib/fleet/records.ts";
import { fleetReport, renderFleet } from "../lib/fleet/view.ts";
import { DEFAULT_STALE_SECONDS } from "../lib/fleet/waves.ts";
import { dirArgs, fleetArgs, jsonArgs } from "./_args.ts";

const staleArg = wholeNumberArg(
  `A node that has not reported the fleet's newest commit this long after it appeared is stale (default rollout.staleSeconds, else ${DEFAULT_STALE_SECONDS})`,
  "seconds",
  { min: 1, unit: "seconds", example: DEFAULT_STALE_SECONDS },
);

export default defineProtocolCommand({
  meta: { name: "fleet" },
  args: { ...dirArgs, ...jsonArgs, ...fleetArgs, "stale-after": staleArg },
  async run({ args }) {
    const location = fleetLocation(args);
    const staleSeconds =
      parseWholeNumber("stale-after", args["stale-after"], staleArg.wholeNumber) ??
      location.rollout?.staleSeconds ??
      DEFAULT_STALE_SECONDS;
    const reports = fleetReport(await readFleet(location.url, location.env), Date.now(), staleSeconds * 1000);
    args.json ? printJson({ remote: location.url, envs: reports }) : printLines(renderFleet(reports, location.url));
  },
});
