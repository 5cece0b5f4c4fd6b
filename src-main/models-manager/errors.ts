// Errors of the model manager: one class, a stable code, one clear sentence (plus a file/folder when there is one).

export type ModelManagerErrorCode =
  /** The repository (or revision) does not exist on the hub, or is private/gated without a token. */
  | 'repo-not-found'
  /** A file listed by the tree is missing at download time (404). */
  | 'file-not-found'
  /** 401/403: a gated or private repository; pass a token (HF_TOKEN / --token). */
  | 'unauthorized'
  /** The repository is not an ONNX Stable Diffusion repository in the diffusers layout. */
  | 'not-onnx'
  /** A downloaded file does not match the tree's sha256 (or size). */
  | 'checksum'
  /** Not enough free disk space (checked before, or ENOSPC while writing). */
  | 'no-space'
  /** Connection dropped / 5xx too many times, or any other network failure. */
  | 'network'
  /** An unexpected HTTP answer (status in the message). */
  | 'http'
  /** Every file arrived but the engine cannot use the model (the staging folder is kept). */
  | 'unsupported'
  /** A model of that name is already in the models folder. */
  | 'exists'
  /** No model of that name in the models folder. */
  | 'model-not-found'
  /** A bad model name, path or option. */
  | 'invalid'
  /** The same download runs in another process (or another window). */
  | 'busy'
  /** Cancelled (AbortSignal / Ctrl+C); what was downloaded stays for a later re-run. */
  | 'cancelled'
  /** Filesystem error (message says what). */
  | 'io';

export class ModelManagerError extends Error {
  readonly code: ModelManagerErrorCode;
  readonly file?: string;
  readonly details?: string[];
  constructor(code: ModelManagerErrorCode, message: string, extra: { file?: string; details?: string[]; cause?: unknown } = {}) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.name = code === 'cancelled' ? 'AbortError' : 'ModelManagerError';
    this.code = code;
    if (extra.file !== undefined) this.file = extra.file;
    if (extra.details !== undefined) this.details = extra.details;
  }
}

export function cancelledError(message = 'Download cancelled; run it again to resume.'): ModelManagerError {
  return new ModelManagerError('cancelled', message);
}
