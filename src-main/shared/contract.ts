// The studio contract: every request the renderer can make of its host (Electron main or the browser host)
// and every event the host pushes back. Pure TypeScript + zod: no Node, no Electron, no DOM. Imported by the
// host (main process / `latent-studio serve`), the preload and the renderer.
//
// Calls:   api.invoke(channel, payload) → Promise<Result<response>>  (never rejects for host-side errors)
// Events:  api.on(event, callback) → unsubscribe
//
// Payloads coming from a renderer are untrusted: the host validates every one of them once, with
// requestSchemas below (for `generate`: the one generation request schema, ./generate-request.ts), before use.
import { z } from 'zod';
import { checkInputsTogether, generateRequestFields, type ParsedRequest } from './generate-request.js';

// Channel and event names (zod-free, for the preload); checked against StudioRequests/StudioEvents below.
import type { ListedChannel, ListedEvent } from './names.js';
export { CHANNELS, EVENTS, isChannel, isEventName } from './names.js';
// Results and errors.
import type { Result, StudioError } from './errors.js';
export * from './errors.js';
// The models the studio lists and inspects.
import type { ModelEntry, ModelSummary } from './models.js';
export * from './models.js';
// One onnxruntime backend, as the engine names it.
import type { BackendInfo } from './backend-info.js';
export type { BackendInfo } from './backend-info.js';
// txt2img / img2img / inpaint.
export type { GenerationMode } from './generation-mode.js';
// Gallery, history and autosave (src-main/shared/gallery.ts).
import { galleryRequestSchemas, type GalleryEvents, type GalleryRequests } from './gallery.js';
export * from './gallery.js';
// Model manager: models folder and hub downloads (src-main/shared/model-manager.ts).
import { modelManagerRequestSchemas, type ModelManagerEvents, type ModelManagerRequests } from './model-manager.js';
export * from './model-manager.js';

/* ------------------------------------------------------------------------------------------------ */
/* Data types                                                                                       */
/* ------------------------------------------------------------------------------------------------ */

export type JobId = string;

/**
 * A generation job: the generation request (./generate-request.ts: prompt, negativePrompt, seed, batchCount;
 * sampler, steps, cfgScale, eta, cfgMode; width, height, initImage, strength, mask, maskBlur, inpaintOnlyMasked,
 * inpaintPadding, initImageFit; backend, threads; previewEvery, decodePreviewEvery) with `model` a model id from
 * listModels (or an absolute model folder). backend, threads and the preview rates default to the settings.
 * initImage and mask are image file bytes or raw pixels ({ width, height, data }: the canvas sends its mask raster
 * as is, one byte a pixel). Seeds: prefer a decimal string above 2^53 (bigint also passes Electron IPC and the wire).
 */
export type GeneratePayload = z.input<typeof generatePayloadSchema>;
/** The payload as the host checked it (defaults filled in). */
export type ParsedGeneratePayload = ParsedRequest & { model: string };

export interface GenerateAccepted {
  jobId: JobId;
  /** 0 = runs now, n = n jobs ahead of it. */
  position: number;
}

export type CancelPayload =
  /** Cancel one job: the running one (stops at the next step) or a queued one (removed). */
  | { jobId: JobId }
  /** 'queued': every waiting job; 'all': every waiting job and the running one. */
  | { scope: 'queued' | 'all' };

export interface CancelResult {
  /** Jobs that were cancelled (each also gets a jobCancelled event). Empty when nothing matched a scope. */
  cancelled: JobId[];
}

export type JobState = 'queued' | 'running';

/** What queue events say of a job: a summary, never the request (prompts and images can be megabytes). */
export interface JobSummary {
  jobId: JobId;
  state: JobState;
  /** Model id as given. */
  model: string;
  /** The prompt's beginning (generationLimits.summaryPromptLength characters at most, '…' where cut). */
  prompt: string;
  width: number;
  height: number;
  steps: number;
  batchCount: number;
  /** ms since epoch. */
  queuedAt: number;
  startedAt?: number;
}

export interface QueueState {
  running: JobSummary | null;
  queued: JobSummary[];
}

export interface TokenCount {
  /** A1111's count ("tokens / limit"). */
  tokens: number;
  /** Number of 77-token chunks. */
  chunks: number;
  /** Prompt tokens per chunk (75). */
  perChunk: number;
  /** 75 × chunks (at least 75). */
  limit: number;
}

export interface TokenizeResult extends TokenCount {
  chunkTokens: Array<{
    ids: number[];
    tokens: string[];
    weights: number[];
    /** Prompt tokens in the chunk (not start, end or padding). */
    promptTokens: number;
  }>;
}

export interface Settings {
  /** A folder of model folders next to the bundled `resources/models` (null = none). */
  userModelsDir: string | null;
  /** Extra absolute model folders listed as source 'path'. */
  modelDirs: string[];
  /** onnxruntime backend for new jobs. */
  backend: string;
  /** intra-op threads, 0 = onnxruntime default. */
  threads: number;
  /** Latent preview every N steps (0 = off) for jobs that do not set previewEvery. */
  previewEvery: number;
  /** Full VAE-decoded preview every N steps (0 = off) for jobs that do not set it. */
  decodePreviewEvery: number;
  /** Last model chosen in the UI (model id), restored at start. */
  lastModel: string | null;
  /** The gallery's output folder: every finished image is saved there (null = the per-user default). */
  outputDir: string | null;
  theme: 'system' | 'dark' | 'light';
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  userModelsDir: null,
  modelDirs: [],
  backend: 'auto',
  threads: 0,
  previewEvery: 1,
  decodePreviewEvery: 0,
  lastModel: null,
  outputDir: null,
  theme: 'system',
});

export interface AppInfo {
  name: string;
  version: string;
  /** Which host serves the contract. */
  host: 'electron' | 'web';
  platform: string;
  /** Bundled models folder. */
  bundledModelsDir: string;
  settingsFile: string;
}

/* ------------------------------------------------------------------------------------------------ */
/* Requests: channel → payload and response                                                         */
/* ------------------------------------------------------------------------------------------------ */

export interface StudioRequests extends GalleryRequests, ModelManagerRequests {
  /**
   * Queue a generation. Resolves once queued (not when done): follow events with the jobId. The job's first
   * events (jobQueued, even jobStarted/progress) may arrive BEFORE this call resolves: keep events of unknown
   * jobIds until the reply comes.
   */
  generate: { payload: GeneratePayload; response: GenerateAccepted };
  cancel: { payload: CancelPayload; response: CancelResult };
  /** The running job and the waiting ones. */
  getQueue: { payload: undefined; response: QueueState };
  listModels: { payload: undefined; response: ModelEntry[] };
  /** `model`: id from listModels or an absolute folder. */
  inspectModel: { payload: { model: string }; response: ModelSummary };
  getSettings: { payload: undefined; response: Settings };
  /** Merge a partial settings object; returns the stored settings. Broadcasts settingsChanged. */
  setSettings: { payload: Partial<Settings>; response: Settings };
  listBackends: { payload: undefined; response: BackendInfo[] };
  /** Token counter for the prompt boxes. model omitted → settings.lastModel, else the first model. */
  countTokens: { payload: { text: string; model?: string; emphasis?: boolean }; response: TokenCount };
  /** The full split (ids, tokens, weights per chunk). */
  tokenize: { payload: { text: string; model?: string; emphasis?: boolean }; response: TokenizeResult };
  getAppInfo: { payload: undefined; response: AppInfo };
}

export type Channel = keyof StudioRequests;
/** Compile-time check: names.ts lists every channel and event, and nothing else. */
export type NamesMatchContract = [IsTrue<Same<ListedChannel, Channel>>, IsTrue<Same<ListedEvent, EventName>>];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type IsTrue<T extends true> = T;
export type PayloadOf<C extends Channel> = StudioRequests[C]['payload'];
export type ResponseOf<C extends Channel> = StudioRequests[C]['response'];

/* ------------------------------------------------------------------------------------------------ */
/* Events: host → renderer                                                                          */
/* ------------------------------------------------------------------------------------------------ */

export interface ResultImage {
  /** PNG file bytes (with `parameters` infotext and `latent-studio` JSON text chunks). */
  png: Uint8Array;
  width: number;
  height: number;
  /** Decimal string (up to 2^64-1). */
  seed: string;
  /** A1111 infotext. */
  infotext: string;
  /** Where the host saved it in the gallery (absent when saving failed: see saveError). */
  saved?: { id: string; file: string };
  /** Saving to the output folder failed (e.g. code 'disk-full'); the image is only in this event. */
  saveError?: StudioError;
}

export interface StudioEvents extends GalleryEvents, ModelManagerEvents {
  /** A job was accepted. position: 0 = starts now. */
  jobQueued: { jobId: JobId; position: number; job: JobSummary };
  /** A job left the queue and began running. */
  jobStarted: { jobId: JobId; startedAt: number };
  /** image: 0-based index in the batch; step 1..totalSteps; etaMs for the whole job. */
  progress: { jobId: JobId; image: number; step: number; totalSteps: number; elapsedMs: number; etaMs: number };
  /**
   * A live preview (RGBA, width·height·4 bytes; 'latent' previews are at latent resolution, 1/8 of the
   * image: scale them up). At most one preview per client is in flight: the transport acks each one after
   * delivering it; frames produced meanwhile are dropped except the latest. Never buffered past the job's end.
   */
  /** pictureWidth/Height: the frame covers the whole picture (the canvas) at that size (engine PreviewEvent). */
  preview: { jobId: JobId; image: number; step: number; kind: 'latent' | 'decoded'; width: number; height: number; rgba: Uint8Array; pictureWidth?: number; pictureHeight?: number };
  /** One image of the batch, saved and sent as soon as it is done (before the next one starts); a job cancelled or failed later keeps it. */
  image: { jobId: JobId; index: number; image: ResultImage };
  /** The job finished: every image of the batch (each was sent as an `image` event already). */
  result: { jobId: JobId; images: ResultImage[]; elapsedMs: number };
  jobError: { jobId: JobId; error: StudioError };
  jobCancelled: { jobId: JobId };
  /** The queue changed (any of the above job transitions). */
  queue: QueueState;
  settingsChanged: { settings: Settings };
  /** Something the user should know that is not a call's error (e.g. a corrupt settings file was reset). */
  notice: { level: 'info' | 'warning' | 'error'; message: string; file?: string };
}

export type EventName = keyof StudioEvents;
export type EventPayload<E extends EventName> = StudioEvents[E];

/** A discriminated event, as a host emits it. */
export type StudioEvent = { [E in EventName]: { event: E; payload: StudioEvents[E] } }[EventName];

/* ------------------------------------------------------------------------------------------------ */
/* The API the renderer sees (Electron preload bridge and the WebSocket client implement it)        */
/* ------------------------------------------------------------------------------------------------ */

/** Channels whose payload may be left out. */
type PayloadArgs<C extends Channel> = undefined extends PayloadOf<C> ? [payload?: PayloadOf<C>] : [payload: PayloadOf<C>];

export interface StudioApi {
  /** 'electron' (preload bridge) or 'web' (WebSocket to `latent-studio serve`). */
  readonly host: 'electron' | 'web';
  invoke<C extends Channel>(channel: C, ...payload: PayloadArgs<C>): Promise<Result<ResponseOf<C>>>;
  /** Subscribe; returns the unsubscribe function. */
  on<E extends EventName>(event: E, callback: (payload: StudioEvents[E]) => void): () => void;
}

/* ------------------------------------------------------------------------------------------------ */
/* Payload validation (the host runs these; the renderer may too)                                   */
/* ------------------------------------------------------------------------------------------------ */

const modelRef = z.string({ error: 'model must be a model id or an absolute model folder' }).min(1, { error: 'model must not be empty' });
const empty = z.union([z.undefined(), z.null(), z.strictObject({})]).transform(() => undefined);
const tokenPayload = z.strictObject({
  text: z.string({ error: 'text must be a string' }).max(100_000, { error: 'text is too long (100000 characters at most)' }),
  model: modelRef.optional(),
  emphasis: z.boolean({ error: 'emphasis must be a boolean' }).optional(),
});

export const settingsShape = {
  userModelsDir: z.string({ error: 'userModelsDir must be a folder path or null' }).min(1).nullable(),
  modelDirs: z.array(z.string().min(1), { error: 'modelDirs must be a list of folder paths' }).max(1000),
  backend: z.string({ error: 'backend must be a string' }).min(1).max(64),
  threads: z.number({ error: 'threads must be a number' }).int({ error: 'threads must be a whole number' }).min(0).max(1024),
  previewEvery: z.number({ error: 'previewEvery must be a number' }).int().min(0).max(1000),
  decodePreviewEvery: z.number({ error: 'decodePreviewEvery must be a number' }).int().min(0).max(1000),
  lastModel: z.string().min(1).nullable(),
  outputDir: z.string().min(1).nullable(),
  theme: z.enum(['system', 'dark', 'light'], { error: "theme must be 'system', 'dark' or 'light'" }),
};
export const settingsSchema = z.strictObject(settingsShape);
export const settingsPatchSchema = z.strictObject(settingsShape).partial();

/** `generate`: the generation request with a model id; the host checks it once, then passes it on typed. */
export const generatePayloadSchema = z.strictObject({ ...generateRequestFields, model: modelRef }).superRefine(checkInputsTogether);

/** Validators for every channel. */
export const requestSchemas = {
  generate: generatePayloadSchema,
  cancel: z.union(
    [z.strictObject({ jobId: z.string().min(1) }), z.strictObject({ scope: z.enum(['queued', 'all']) })],
    { error: "cancel needs { jobId } or { scope: 'queued' | 'all' }" },
  ),
  getQueue: empty,
  listModels: empty,
  inspectModel: z.strictObject({ model: modelRef }),
  getSettings: empty,
  setSettings: settingsPatchSchema,
  listBackends: empty,
  countTokens: tokenPayload,
  tokenize: tokenPayload,
  getAppInfo: empty,
  ...galleryRequestSchemas,
  ...modelManagerRequestSchemas,
} satisfies Record<Channel, z.ZodType>;
