import { DiskFullError, MissingProgramError, NetworkError, StepFailedError } from "../core/errors.ts";
import { engineAnswers } from "../docker/docker.ts";
import { HookFailedError } from "./hooks.ts";

/**
 * Whether a failed deploy is the infrastructure's fault rather than the commit's: a known cause
 * (engine down, registry or network unreachable, full disk), a killed program, or any failure while
 * the engine does not answer. Such a deploy is retried with backoff: never quarantined, never
 * rolled back (there is nothing wrong to undo, and the engine could not do it anyway).
 */
export async function isInfrastructureFault(error: unknown): Promise<boolean> {
  // A host step's failure is the commit's; a service step's is the engine's while it does not answer.
  if (error instanceof HookFailedError) return error.service !== null && !(await engineAnswers());
  if (error instanceof NetworkError || error instanceof DiskFullError || error instanceof MissingProgramError)
    return true;
  if (error instanceof StepFailedError && error.infrastructure) return true;
  return !(await engineAnswers());
}
