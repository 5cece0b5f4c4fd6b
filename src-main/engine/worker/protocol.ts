// The engine worker's message protocol (carried by worker_threads or, in the studio, Electron IPC).
import type { GenerateResult, ParsedRequest, PreviewEvent, ProgressEvent } from '../pipeline/index.js';

/** A model folder and how to run it. Sessions are cached in the worker by (dir, backend, threads). */
export interface ModelRef {
  dir: string;
  /** onnxruntime execution provider; default 'cpu'; 'auto' = the fastest that works here (engine/onnx/backends.ts). */
  backend?: string;
  /** intra-op threads; 0/undefined = onnxruntime's default. */
  threads?: number;
}

export type EngineRequest =
  /** A request checked where it entered (parseGenerateRequest, or the studio host's and the CLI's check): the worker does not check it again. */
  | { id: number; type: 'generate'; request: ParsedRequest; model?: ModelRef }
  /** Cancels the request with this id (a generate); answered on that request (error 'cancelled'), then 'done' on this one. */
  | { id: number; type: 'cancel'; target: number }
  | { id: number; type: 'inspectModel'; dir: string }
  | { id: number; type: 'listBackends' }
  /** What `backend: 'auto'` means on this machine (probed once, then remembered): an AutoChoice. */
  | { id: number; type: 'chooseBackend' }
  | { id: number; type: 'tokenize'; text: string; model: ModelRef }
  /** Closes cached model sessions (all, or those of one folder). */
  | { id: number; type: 'dispose'; dir?: string };

export interface SerializedError {
  name: string;
  code: string;
  message: string;
  file?: string;
}

/** The worker's tokenize answer: the counts and each chunk's ids (the studio's TokenizeResult also names the tokens). */
export interface PromptTokenIds {
  /** A1111's token count. */
  tokens: number;
  /** 77-token chunks needed. */
  chunks: number;
  /** What the counter shows after the slash (75, 150, ...). */
  limit: number;
  /** The ids of each chunk (77 each). */
  ids: number[][];
}

export type { AutoChoice, BackendInfo } from '../onnx/index.js';

export type EngineEvent =
  | { id: number; type: 'progress'; event: ProgressEvent }
  | { id: number; type: 'preview'; event: PreviewEvent }
  /** One finished image of a generate (index in the batch), sent as soon as it is done. */
  | { id: number; type: 'result'; index: number; result: GenerateResult }
  | { id: number; type: 'error'; error: SerializedError }
  /** The last event of every request that succeeded. `value` is the answer of non-generate requests. */
  | { id: number; type: 'done'; value?: unknown }
  /** Sent once (id 0) when the worker is ready for requests. */
  | { id: 0; type: 'ready'; pid: number };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; file?: unknown; path?: unknown };
    const out: SerializedError = {
      name: e.name || 'Error',
      code: typeof e.code === 'string' ? e.code : e.name === 'AbortError' ? 'cancelled' : 'internal',
      message: e.message,
    };
    const file = typeof e.file === 'string' ? e.file : typeof e.path === 'string' ? e.path : undefined;
    if (file !== undefined) out.file = file;
    return out;
  }
  return { name: 'Error', code: 'internal', message: String(err) };
}

/** An error rebuilt on the calling side from SerializedError: same name, code, message and file. */
export class EngineError extends Error {
  readonly code: string;
  readonly file?: string;
  constructor(s: SerializedError) {
    super(s.message);
    this.name = s.name;
    this.code = s.code;
    if (s.file !== undefined) this.file = s.file;
  }
}
