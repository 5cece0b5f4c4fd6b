// Errors the CLI reports as one line on stderr, each with its exit code.

/** Exit codes of `latent-studio` (documented in `latent-studio --help`). */
export const ExitCode = {
  ok: 0,
  /** The engine failed while running (model could not load, session error, write error). */
  failure: 1,
  /** Bad input: unknown option, missing or invalid value, unreadable file, size mismatch. */
  usage: 2,
  /** `models inspect`: the model was read but cannot be run. */
  unsupported: 3,
  /** Cancelled with Ctrl+C (128 + SIGINT). */
  interrupted: 130,
  /** Stopped by SIGTERM (128 + SIGTERM). */
  terminated: 143,
} as const;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.usage, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Input the user gave is wrong: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.usage);
}

/** One line, without a stack trace: the message of an error and the first cause that adds to it. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let message = error.message.trim() || error.name;
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message && !message.includes(cause.message)) {
    message += `: ${cause.message}`;
  }
  return message.replace(/\s*\n\s*/g, ' ');
}
