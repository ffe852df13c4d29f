import { hostname } from "node:os";
import { ofetch } from "ofetch";
import type { App } from "../app/app.ts";
import { readNodeState, updateNodeState } from "../app/state.ts";
import { errorMessage } from "../core/errors.ts";
import { discardBody } from "../core/http.ts";
import { log } from "../core/log.ts";
import { redactUrlPath } from "../core/validate.ts";
import type { NotifyState } from "../schema/state.ts";

/**
 * "held": a rollout holds a new commit (a canary failed it, or the environment is frozen).
 * "hook-failed": an afterHealthy hook failed (the deploy stands). "crash-looping": a service kept
 * dying after protocol started it again; it is left alone until the next deploy or start.
 */
export type DeployEvent =
  | "succeeded"
  | "failed"
  | "rolled-back"
  | "error"
  | "recovered"
  | "held"
  | "hook-failed"
  | "crash-looping";

export interface Notice {
  event: DeployEvent;
  from: string | null;
  to: string;
  error?: string | null;
}

/** The same failure is sent once, then at most hourly. */
export const REPEAT_FAILURE_MS = 60 * 60_000;

/**
 * Pure throttle: which event to send (if any) and the state after it. A success after failures is
 * sent as "recovered".
 */
export function planNotice(
  state: NotifyState,
  notice: Notice,
  now: number,
): { send: DeployEvent | null; next: NotifyState } {
  if (notice.event === "succeeded") {
    return {
      send: state.failing ? "recovered" : "succeeded",
      next: { failing: false, lastKey: null, lastSentAt: null },
    };
  }
  const key = `${notice.event}:${notice.to}:${notice.error ?? ""}`;
  const repeat = state.lastKey === key && state.lastSentAt !== null && now - state.lastSentAt < REPEAT_FAILURE_MS;
  return repeat
    ? { send: null, next: { ...state, failing: true } }
    : { send: notice.event, next: { failing: true, lastKey: key, lastSentAt: now } };
}

/** POST the deploy event to notify.webhook; signed with HMAC-SHA256 when its secret is in the environment. */
export async function notifyDeploy(
  app: App,
  notice: Notice,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  const url = app.config.notify?.webhook;
  if (!url) return;
  const state = readNodeState(app.paths.status);
  const { send, next } = planNotice(state.notify, notice, Date.now());
  updateNodeState(app.paths.status, { notify: next });
  if (!send) return;
  const body = JSON.stringify({
    event: send,
    app: app.name,
    node: hostname(),
    from: notice.from,
    to: notice.to,
    error: notice.error ?? null,
    at: new Date().toISOString(),
  });
  const secret = env[app.config.notify?.secretEnv ?? "PROTOCOL_WEBHOOK_SECRET"];
  const headers: Record<string, string> = { "Content-Type": "application/json", "User-Agent": "protocol" };
  if (secret)
    headers["X-Protocol-Signature"] = `sha256=${new Bun.CryptoHasher("sha256", secret).update(body).digest("hex")}`;
  try {
    // The answer is never read: a 2xx is all a webhook owes us (an endless body would fill memory).
    await discardBody(
      await ofetch.raw(url, { method: "POST", body, headers, retry: 1, timeout: 10_000, responseType: "stream" }),
    );
  } catch (error) {
    // A webhook that is down must never fail a deploy; the next event tries again.
    // The URL's path often is the token (Slack, Discord): logs get the scheme and host only.
    const shown = redactUrlPath(url);
    let message = errorMessage(error).replaceAll(url, shown);
    if (URL.canParse(url)) message = message.replaceAll(new URL(url).href, shown);
    log.warn(`notify.webhook failed: ${message}`);
  }
}
