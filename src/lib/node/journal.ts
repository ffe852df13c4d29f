/**
 * The move journal: before protocol touches the working copy it records, durably, that it is moving
 * it from A to B. The record lives in the repository's own `.git` (`.git/protocol/move.json`), so
 * any protocol finds it after a crash, whatever state dir it runs with. It is removed once the move
 * is complete; a record that is still there means the move was cut short (kill -9, power loss, a
 * full disk) and is recovered before anything else (recover.ts).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { writeFileAtomic } from "../core/fs.ts";
import { readJsonFile } from "../core/json-file.ts";
import { log } from "../core/log.ts";

const MoveSchema = v.object({
  from: v.nullable(v.pipe(v.string(), v.regex(/^[0-9a-f]{40,64}$/))),
  to: v.pipe(v.string(), v.regex(/^[0-9a-f]{40,64}$/)),
  kind: v.picklist(["fast-forward", "reset"]),
  at: v.string(),
  pid: v.number(),
});
export type MoveRecord = v.InferOutput<typeof MoveSchema>;

export function journalPath(gitDir: string): string {
  return join(gitDir, "protocol", "move.json");
}

/** Written with fsync and an atomic rename: after a crash the record is whole or absent. */
export function beginMove(gitDir: string, move: Omit<MoveRecord, "at" | "pid">): void {
  const record: MoveRecord = { ...move, at: new Date().toISOString(), pid: process.pid };
  writeFileAtomic(journalPath(gitDir), `${JSON.stringify(record)}\n`, 0o644, true);
}

export function readMove(gitDir: string): MoveRecord | null {
  return readJsonFile<MoveRecord | null>(journalPath(gitDir), MoveSchema, null, (path) =>
    log.warn(`ignoring an unreadable move journal ${path}`),
  );
}

export function endMove(gitDir: string): void {
  rmSync(journalPath(gitDir), { force: true });
}

/**
 * Tests only: PROTOCOL_TEST_PAUSE_AT=<step> stops the sync at that named step for good, so a test
 * can kill it there (kill -9) and check what the next sync does; `<step>:<ms>` pauses that long and
 * goes on. Steps: "before-move" (every check passed, nothing journaled), "move-journaled".
 */
export async function pauseForTests(step: string): Promise<void> {
  const [name, ms] = (process.env.PROTOCOL_TEST_PAUSE_AT ?? "").split(":");
  if (name !== step) return;
  log.warn(`paused at ${step} (PROTOCOL_TEST_PAUSE_AT)`);
  await (ms ? Bun.sleep(Number(ms)) : new Promise(() => undefined));
}
