// The only module of the project that imports onnxruntime-node. Everything else sees our own small types:
// OnnxSession, TensorValue, IoMeta. Session options are built here, in one place.

import os from 'node:os';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import type { BackendInfo } from '../../shared/backend-info.js';
import { float16ToFloat32, float32ToFloat16 } from './float16.js';

export type { BackendInfo } from '../../shared/backend-info.js';

/** Backend names we accept (ours), besides any name onnxruntime itself reports. */
export const KNOWN_BACKENDS = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu', 'tensorrt'] as const;
export type KnownBackend = (typeof KNOWN_BACKENDS)[number];

const ALIASES: Record<string, string> = {
  cpu: 'cpu',
  cuda: 'cuda',
  gpu: 'cuda',
  dml: 'dml',
  directml: 'dml',
  coreml: 'coreml',
  webgpu: 'webgpu',
  tensorrt: 'tensorrt',
  trt: 'tensorrt',
};

/** Normalises a user-given backend name ('DirectML' -> 'dml', 'gpu' -> 'cuda'); unknown names stay as given, lower-cased. */
export function normalizeBackendName(name: string): string {
  const key = name.trim().toLowerCase();
  return ALIASES[key] ?? key;
}

/**
 * What onnxruntime-node reports for this platform, plus every one of our names (listed: false when onnxruntime
 * does not know it here). 'cpu' is always first and always listed.
 */
export function listSupportedBackends(): BackendInfo[] {
  let reported: Array<{ name: string; bundled: boolean }> = [];
  try {
    reported = ort.listSupportedBackends();
  } catch {
    reported = [{ name: 'cpu', bundled: true }];
  }
  const out = new Map<string, BackendInfo>();
  out.set('cpu', { name: 'cpu', listed: true, bundled: true });
  for (const b of reported) {
    const name = normalizeBackendName(b.name);
    out.set(name, { name, listed: true, bundled: b.bundled });
  }
  for (const name of KNOWN_BACKENDS) if (!out.has(name)) out.set(name, { name, listed: false, bundled: false });
  return [...out.values()];
}

export interface SessionConfig {
  /** 'cpu' (default), 'cuda', 'dml', 'coreml', 'webgpu', 'tensorrt'; createSession also takes 'auto'. */
  backend?: string;
  /** Intra-op threads, at most the logical CPUs (see maxThreads); 0 or undefined lets onnxruntime choose (all physical cores). */
  threads?: number;
  /**
   * Let onnxruntime's pool threads busy-wait between ops (its default). Off by default here: a desktop app
   * shares the cores with the UI and the calling thread, and spinning threads starve them
   * (LATENT_STUDIO_ORT_SPINNING=1 turns it back on).
   */
  spinning?: boolean;
  /**
   * Keep the CPU memory arena (default true): a session then holds on to the largest working memory it ever
   * needed, which makes repeated runs (UNet steps) cheaper but adds up across sessions: tiny-sd15 at 768²,
   * encoder + UNet + decoder peaked at 2.96 GB with arenas and at 1.52 GB (the UNet alone) without. Off for
   * sessions that run once per image (the VAE), whose memory then goes back to the system after each run.
   */
  keepArena?: boolean;
}

/**
 * The most intra-op threads a session gets: the machine's logical CPUs. Every onnxruntime pool thread costs a
 * stack and per-thread buffers, so a larger number (from any caller, not only the CLI) only wastes memory —
 * a million grew to 19 GB.
 */
export function maxThreads(): number {
  return os.availableParallelism();
}

/** Core ML: compile to an ML Program (the format its documentation recommends: more ops, fp16 on the GPU/ANE). */
const COREML_FLAG_CREATE_MLPROGRAM = 0x010;

/**
 * The execution provider entry with the options each backend's documentation asks for, where onnxruntime-node
 * passes them on (its binding reads only deviceId for cuda/dml, coreMlFlags for coreml, and a few WebGPU options):
 * - webgpu: NHWC, the layout its convolution kernels prefer (also its native default; set so that it stays so).
 *   Graph capture is left off: it needs every input and output bound on the GPU, and the pipeline reads the UNet's
 *   output on the CPU after every step (onnxruntime-node cannot download a GPU tensor). For the same reason
 *   preferredOutputLocation 'gpu-buffer' is not used: no output of ours goes from one session straight into another.
 * - cuda: the binding takes no provider options; onnxruntime's defaults already search cuDNN convolution algorithms
 *   exhaustively, and CUDA graphs need IO binding, which the Node API does not have.
 * - coreml: ML Program format.
 */
function executionProvider(backend: string): ort.InferenceSession.ExecutionProviderConfig {
  if (backend === 'webgpu') return { name: 'webgpu', preferredLayout: 'NHWC' };
  if (backend === 'coreml') return { name: 'coreml', coreMlFlags: COREML_FLAG_CREATE_MLPROGRAM };
  return backend;
}

/** The session options for a backend. The single place where they are decided. */
export function buildSessionOptions(config: SessionConfig = {}): ort.InferenceSession.SessionOptions {
  const backend = normalizeBackendName(config.backend ?? 'cpu');
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    enableMemPattern: true,
    enableCpuMemArena: config.keepArena ?? true,
    logSeverityLevel: 3,
    executionProviders: [executionProvider(backend)],
  };
  const spinning = config.spinning ?? process.env['LATENT_STUDIO_ORT_SPINNING'] === '1';
  if (!spinning) {
    options.extra = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
  }
  if (config.threads !== undefined && config.threads > 0) {
    options.intraOpNumThreads = Math.min(Math.floor(config.threads), maxThreads());
    options.interOpNumThreads = 1;
  }
  if (backend === 'dml') {
    // DirectML's documentation: no memory patterns, sequential execution (onnxruntime also forces both, with a warning).
    options.enableMemPattern = false;
    options.executionMode = 'sequential';
  }
  return options;
}

export type TensorType = 'float32' | 'float16' | 'int32' | 'int64' | 'bool' | 'uint8' | 'int8' | 'float64' | 'string';
export type TensorData = Float32Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Float64Array;

/** A tensor as we pass it around: float16 data is always the bit pattern in a Uint16Array. */
export interface TensorValue {
  readonly type: TensorType;
  readonly data: TensorData;
  readonly dims: readonly number[];
}

export interface IoMeta {
  readonly name: string;
  /** 'float32', 'float16', 'int64', ... ('unknown' for non-tensor values). */
  readonly type: string;
  /** Numbers for fixed dims, strings for symbolic dims (e.g. 'batch_size'), -1 when unnamed. */
  readonly shape: ReadonlyArray<number | string>;
}

export interface OnnxSession {
  readonly path: string;
  /** The backend the session really runs on. */
  readonly backend: string;
  readonly inputs: readonly IoMeta[];
  readonly outputs: readonly IoMeta[];
  run(feeds: Record<string, TensorValue>, outputNames?: readonly string[]): Promise<Record<string, TensorValue>>;
  release(): Promise<void>;
}

export interface CreateSessionOptions extends SessionConfig {
  /** Called with a human-readable line when the requested backend could not be used. */
  onWarning?: (message: string) => void;
}

function metaOf(list: readonly ort.InferenceSession.ValueMetadata[]): IoMeta[] {
  return list.map((m) =>
    m.isTensor
      ? { name: m.name, type: String(m.type), shape: m.shape.map((d) => (typeof d === 'number' ? d : String(d))) }
      : { name: m.name, type: 'unknown', shape: [] },
  );
}

function toOrt(v: TensorValue): ort.Tensor {
  return new ort.Tensor(v.type as ort.Tensor.Type, v.data as ort.Tensor.DataTypeMap[ort.Tensor.Type], [...v.dims]);
}

function fromOrt(t: ort.Tensor): TensorValue {
  let data = t.data as unknown as TensorData;
  if (t.type === 'float16' && !(data instanceof Uint16Array)) {
    // Where a global Float16Array exists, onnxruntime-common re-views the bits as one: view them as Uint16 again.
    const view = data as unknown as ArrayBufferView;
    data = new Uint16Array(view.buffer, view.byteOffset, view.byteLength / 2);
  }
  return { type: t.type as TensorType, data, dims: [...t.dims] };
}

class OrtSession implements OnnxSession {
  readonly inputs: readonly IoMeta[];
  readonly outputs: readonly IoMeta[];
  constructor(
    readonly path: string,
    readonly backend: string,
    private readonly session: ort.InferenceSession,
  ) {
    this.inputs = metaOf(session.inputMetadata);
    this.outputs = metaOf(session.outputMetadata);
  }

  async run(feeds: Record<string, TensorValue>, outputNames?: readonly string[]): Promise<Record<string, TensorValue>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
    const result = outputNames ? await this.session.run(ortFeeds, [...outputNames]) : await this.session.run(ortFeeds);
    const out: Record<string, TensorValue> = {};
    for (const [k, v] of Object.entries(result)) out[k] = fromOrt(v);
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Creates a session from a model file path (external data such as model.onnx_data / weights.pb beside it is
 * found by onnxruntime). If the requested backend is not available or fails to initialise, falls back to CPU
 * and reports why through onWarning. Errors of the model itself (bad file) are thrown as they come.
 */
export async function createSession(modelPath: string, options: CreateSessionOptions = {}): Promise<OnnxSession> {
  initLogging();
  let wanted = normalizeBackendName(options.backend ?? 'cpu');
  const auto = wanted === 'auto';
  if (auto) {
    // Imported when used: backends.ts builds on this module.
    const { chooseAutoBackend } = await import('./backends.js');
    const choice = await chooseAutoBackend();
    if (choice.warning) options.onWarning?.(choice.warning);
    wanted = choice.backend;
  }
  if (wanted !== 'cpu') {
    const info = listSupportedBackends().find((b) => b.name === wanted);
    if (!info || !info.listed) {
      options.onWarning?.(
        `Backend '${wanted}' is not available in onnxruntime-node on ${process.platform}/${process.arch}; using the CPU instead.`,
      );
    } else {
      try {
        const session = await ort.InferenceSession.create(modelPath, buildSessionOptions({ ...options, backend: wanted }));
        return new OrtSession(modelPath, wanted, session);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (auto) {
          // The remembered choice no longer works on this machine (driver or libraries changed): probe again next time.
          const { forgetAutoChoice } = await import('./backends.js');
          await forgetAutoChoice();
        }
        // Try the CPU: if the model itself is broken, the CPU attempt fails too and that error is thrown.
        options.onWarning?.(`Backend '${wanted}' failed to start (${firstLine(message)}); using the CPU instead.`);
      }
    }
  }
  const session = await ort.InferenceSession.create(modelPath, buildSessionOptions({ ...options, backend: 'cpu' }));
  return new OrtSession(modelPath, 'cpu', session);
}

// ----------------------------------------------------------------------------- backend probing

/** onnxruntime-node's version and the platform: the key under which a probed backend choice is remembered. */
export function runtimeIdentity(): string {
  const version = ort.env.versions.node ?? ort.env.versions.common;
  return `onnxruntime-node ${version} ${process.platform}-${process.arch}`;
}

/** Where onnxruntime-node's entry is, for a probe child process that loads it the way we do. */
export function onnxruntimeEntry(): string {
  return createRequire(import.meta.url).resolve('onnxruntime-node');
}

/**
 * The options a backend probe uses: the real options of that backend, plus onnxruntime's
 * session.disable_cpu_ep_fallback for every backend but the CPU, so that a provider which takes no node (or
 * silently hands the graph to the CPU) fails the session instead of passing as working.
 */
export function probeSessionOptions(backend: string): ort.InferenceSession.SessionOptions {
  const options = buildSessionOptions({ backend, threads: 1 });
  if (normalizeBackendName(backend) !== 'cpu') {
    const extra = (options.extra ?? {}) as { session?: Record<string, unknown> };
    options.extra = { ...extra, session: { ...(extra.session ?? {}), disable_cpu_ep_fallback: '1' } };
  }
  return options;
}

/** Creates a session on `model` with `options`, runs it once on `input` and returns the output's values. */
export async function runProbeSession(
  model: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
  input: { name: string; dims: readonly number[]; values: readonly number[] },
  outputName: string,
): Promise<number[]> {
  initLogging();
  const session = await ort.InferenceSession.create(model, options);
  try {
    const feeds = { [input.name]: new ort.Tensor('float32', Float32Array.from(input.values), [...input.dims]) };
    const result = await session.run(feeds);
    return Array.from(result[outputName]!.data as Float32Array);
  } finally {
    await session.release();
  }
}

let loggingSet = false;

/**
 * onnxruntime's native logger writes to stderr (e.g. a failed CUDA provider load is logged before the error
 * reaches us, and we report it as a warning anyway). It is configured once per process, before the first
 * session: quiet by default, LATENT_STUDIO_ORT_LOG_LEVEL=verbose|info|warning|error|fatal to change it.
 */
function initLogging(): void {
  if (loggingSet) return;
  loggingSet = true;
  const wanted = process.env['LATENT_STUDIO_ORT_LOG_LEVEL'];
  const levels = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;
  const level = levels.find((l) => l === wanted) ?? 'fatal';
  if (ort.env.logLevel === undefined || ort.env.logLevel === 'warning') ort.env.logLevel = level;
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? s;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

// ----------------------------------------------------------------------------- tensor helpers

export function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** A float tensor of the given type from float32 values (converted to float16 bits when needed). */
export function floatTensor(type: string, values: Float32Array, dims: readonly number[]): TensorValue {
  checkLength(values.length, dims);
  if (type === 'float16') return { type: 'float16', data: float32ToFloat16(values), dims };
  if (type === 'float32') return { type: 'float32', data: values, dims };
  if (type === 'float64') return { type: 'float64', data: Float64Array.from(values), dims };
  throw new TypeError(`floatTensor: unsupported float type ${type}`);
}

/** An integer tensor (int32 or int64) from numbers (fractions are truncated, as numpy's astype does). */
export function intTensor(type: string, values: ArrayLike<number>, dims: readonly number[]): TensorValue {
  checkLength(values.length, dims);
  if (type === 'int64') {
    const data = new BigInt64Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = BigInt(Math.trunc(values[i]!));
    return { type: 'int64', data, dims };
  }
  if (type === 'int32') {
    const data = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = Math.trunc(values[i]!);
    return { type: 'int32', data, dims };
  }
  throw new TypeError(`intTensor: unsupported integer type ${type}`);
}

/** A tensor of the given type (any float or int type) from numbers. */
export function numericTensor(type: string, values: ArrayLike<number>, dims: readonly number[]): TensorValue {
  if (type === 'int32' || type === 'int64') return intTensor(type, values, dims);
  return floatTensor(type, values instanceof Float32Array ? values : Float32Array.from(values), dims);
}

/** Any float tensor as float32 (float16 bits converted; float32 data returned as is). */
export function toFloat32(t: TensorValue): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') return float16ToFloat32(t.data as Uint16Array);
  if (t.type === 'float64') return Float32Array.from(t.data as Float64Array);
  throw new TypeError(`toFloat32: tensor of type ${t.type} is not a float tensor`);
}

function checkLength(n: number, dims: readonly number[]): void {
  const want = product(dims);
  if (n !== want) throw new RangeError(`tensor data has ${n} values, dims [${dims.join(', ')}] need ${want}`);
}
