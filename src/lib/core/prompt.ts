import { consola } from "consola";
import { CancelledError, UsageError } from "./errors.ts";

/** What consola's prompts resolve to on Ctrl-C or Esc when asked with cancel: "symbol" (its kCancel). */
const CANCEL = Symbol.for("cancel");

/**
 * A prompt's answer, or CancelledError when the person cancelled: the boundary prints one line,
 * "cancelled", and exits 130, instead of taking the default (consola's own choice) or a stack.
 */
export function answerOrCancel<T>(answer: T): Exclude<T, symbol> {
  if (answer === CANCEL || typeof answer === "symbol") throw new CancelledError();
  return answer as Exclude<T, symbol>;
}

/** Ask for one line on a TTY; without one never prompt (cron, cloud-init, CI): fail with how to pass it. */
export async function askText(message: string, withoutTty: string): Promise<string> {
  if (!process.stdin.isTTY)
    throw new UsageError(`${message.replace(/\?$/, "")}: no TTY to ask on`, `${withoutTty}, or pass --yes`);
  const answer = await consola.prompt(message, { type: "text", default: "", placeholder: "", cancel: "symbol" });
  return String(answerOrCancel(answer) ?? "").trim();
}

/** Ask yes or no on a TTY (the caller has made sure there is one, and said what to pass without). */
export async function askConfirm(message: string, initial: boolean): Promise<boolean> {
  return answerOrCancel(await consola.prompt(message, { type: "confirm", initial, cancel: "symbol" }));
}
