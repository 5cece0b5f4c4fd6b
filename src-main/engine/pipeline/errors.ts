// Errors of the generation pipeline. Every error carries a stable `code` the UI and the worker protocol use.

export type PipelineErrorCode =
  | 'invalid-request'
  | 'unknown-sampler'
  | 'bad-image'
  | 'bad-mask'
  | 'unsupported'
  | 'non-finite'
  | 'model-output';

export class PipelineError extends Error {
  readonly code: PipelineErrorCode | string;
  constructor(code: PipelineErrorCode | string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PipelineError';
    this.code = code;
  }
}

/** Thrown when a generation is cancelled through its AbortSignal: name 'AbortError', code 'cancelled'. */
export class GenerationAbortError extends Error {
  readonly code = 'cancelled';
  constructor(message = 'Generation cancelled.') {
    super(message);
    this.name = 'AbortError';
  }
}

/** A cancellation: ours (GenerationAbortError, code 'cancelled') or Node's (AbortSignal, fetch: name 'AbortError', code 'ABORT_ERR'). */
export function isAbortError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return err.name === 'AbortError' || code === 'cancelled' || code === 'ABORT_ERR';
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new GenerationAbortError();
}
