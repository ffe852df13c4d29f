/**
 * Every failure protocol reports is a ProtocolError: a one-line message, an optional hint that
 * says what to do, and an exit code from the table in the README.
 */
export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  config: 3,
  precondition: 4,
  network: 5,
  stepFailed: 6,
  missingProgram: 7,
  locked: 8,
  /** Ctrl-C at a prompt: the shell's code for SIGINT (128 + 2), as if the signal had ended protocol. */
  cancelled: 130,
  /** Not a failure: `self:update --check` found a newer release (dnf check-update's convention). */
  updateAvailable: 100,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class ProtocolError extends Error {
  readonly exitCode: ExitCode = EXIT.unexpected;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends ProtocolError {
  override readonly exitCode = EXIT.usage;
}

export class ConfigError extends ProtocolError {
  override readonly exitCode = EXIT.config;
}

export class PreconditionError extends ProtocolError {
  override readonly exitCode = EXIT.precondition;
}

/** No space left (ENOSPC, EDQUOT) where protocol has to write: infrastructure, retried with backoff. */
export class DiskFullError extends PreconditionError {}

/** A write failed for want of space (ENOSPC, or EDQUOT: over a quota). */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/** A write that failed for want of space becomes a DiskFullError naming the place; anything else is rethrown. */
export function diskFullOr(error: unknown, where: string): unknown {
  if (!isDiskFull(error)) return error;
  return new DiskFullError(
    `no space left on the file system of ${where}`,
    "free space there; protocol retries with backoff",
  );
}

export class NetworkError extends ProtocolError {
  override readonly exitCode = EXIT.network;
}

/** The server answered 404: the file is not there (a release that lacks it, a wrong version). */
export class NotFoundError extends NetworkError {}

export class StepFailedError extends ProtocolError {
  override readonly exitCode = EXIT.stepFailed;
  /** Not the commit's fault (engine down, registry unreachable, a killed program): retried, never quarantined. */
  infrastructure = false;
}

export class MissingProgramError extends ProtocolError {
  override readonly exitCode = EXIT.missingProgram;
}

export class LockedError extends ProtocolError {
  override readonly exitCode = EXIT.locked;
}

/** The person cancelled a prompt (Ctrl-C, Esc): not a failure to explain, so no hint. */
export class CancelledError extends ProtocolError {
  override readonly exitCode = EXIT.cancelled;
  constructor() {
    super("cancelled");
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
