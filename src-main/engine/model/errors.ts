/** Why a model folder cannot be used. `code` is stable (for the UI), `file` is relative to the model folder when known. */
export type ModelErrorCode =
  | 'missing-dir'
  | 'missing-file'
  | 'truncated-file'
  | 'invalid-onnx'
  | 'invalid-config'
  | 'config-mismatch'
  | 'unsupported-architecture'
  | 'unexpected-input'
  | 'missing-input'
  | 'unexpected-output'
  | 'missing-external-data'
  | 'tokenizer'
  | 'session-failed'
  | 'bad-argument'
  | 'missing-component'
  /** A float16 VAE decoder overflowed (NaN/Inf out), as SDXL's original VAE does in float16. */
  | 'vae-overflow';

export class ModelError extends Error {
  readonly code: string;
  readonly file?: string;
  constructor(code: ModelErrorCode | string, message: string, file?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelError';
    this.code = code;
    if (file !== undefined) this.file = file;
  }
}

/** One thing wrong with a model folder, as inspectModel reports it. */
export interface ModelIssue {
  code: ModelErrorCode;
  /** Path relative to the model folder (e.g. 'unet/model.onnx'). */
  file?: string;
  message: string;
}
