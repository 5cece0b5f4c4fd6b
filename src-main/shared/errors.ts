// Results and errors of the studio contract: every call answers a Result, a failure carries a StudioError.
// Pure TS, importable by the renderer; contract.ts re-exports it.

/**
 * Stable error codes. Engine errors keep their own code (e.g. 'bad-image', 'non-finite', 'unsupported');
 * the host adds these.
 */
export type StudioErrorCode =
  /** The payload failed validation (message lists every problem, one per `details` line). */
  | 'invalid-payload'
  /** No such channel. */
  | 'unknown-channel'
  /** A model id/path that is not among the models and is not a model folder. */
  | 'model-not-found'
  /** The model folder is there but cannot be loaded (missing files, bad ONNX, unsupported architecture). */
  | 'bad-model'
  /** No such job (already finished, or never existed). */
  | 'job-not-found'
  /** The job was cancelled (only used inside jobError-less flows, e.g. a cancelled `generate` await). */
  | 'cancelled'
  /** The engine worker died or could not start. */
  | 'engine-unavailable'
  /** Settings could not be read/written. */
  | 'settings'
  /** A model without a tokenizer (token counter). */
  | 'no-tokenizer'
  /** Web host only: the WebSocket closed (pending calls end with this). */
  | 'disconnected'
  /** Anything else (a bug): message says what. */
  | 'internal';

export interface StudioError {
  code: StudioErrorCode | (string & {});
  /** One human-readable sentence (or several, '; '-separated). */
  message: string;
  /** A file or folder the error is about (model folder, settings file…), when there is one. */
  file?: string;
  /** Validation problems, one per line: "steps: steps must be at least 1". */
  details?: string[];
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: StudioError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}
export function err(code: StudioError['code'], message: string, extra: { file?: string; details?: string[] } = {}): Result<never> {
  return { ok: false, error: { code, message, ...extra } };
}


/** zod issues → one line each ("steps: steps must be at least 1"). */
export function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string; keys?: string[] }>): string[] {
  return issues.map((i) => {
    if (i.code === 'unrecognized_keys' && i.keys) return `unknown field(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    const path = i.path.length ? `${i.path.map(String).join('.')}: ` : '';
    return `${path}${i.message}`;
  });
}
