import { consola } from "consola";
import { UsageError } from "../core/errors.ts";

/** Ask for one line on a TTY; without one never prompt (cron, cloud-init, CI): fail with how to pass it. */
export async function askText(message: string, withoutTty: string): Promise<string> {
  if (!process.stdin.isTTY)
    throw new UsageError(`${message.replace(/\?$/, "")}: no TTY to ask on`, `${withoutTty}, or pass --yes`);
  const answer = await consola.prompt(message, { type: "text", default: "", placeholder: "", cancel: "reject" });
  return String(answer ?? "").trim();
}
