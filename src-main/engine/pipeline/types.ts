// What the pipeline needs from a model. StableDiffusionModel (engine/model) satisfies it; tests can
// pass a wrapper (e.g. the real model with a substituted predictNoise): this is the denoiser seam.
import type { ModelMemoryFacts } from '../model/memory.js';
import type { PromptTokenizer } from '../prompt/index.js';
import type { SchedulerConfig } from '../schedulers/types.js';
import type { GenerateRequest, ImageInput, NormalizedRequest, ParsedRequest } from './request.js';

// The request types, for the pipeline's own modules: request.js is imported here only.
export type { GenerateRequest, ImageInput, NormalizedRequest, ParsedRequest };

type MaybePromise<T> = T | Promise<T>;

/** What the pipeline hands the UNet: the model layer's own argument type. */
import type { PredictNoiseArgs } from '../model/model.js';
export type { PredictNoiseArgs };

export interface EncodedImageLatent {
  /** 'sample': [1,4,h,w] already sampled; 'parameters': [1,8,h,w] mean ‖ logvar. */
  kind: 'sample' | 'parameters';
  data: Float32Array;
}

export interface PipelineModelInfo {
  unetInChannels: number;
  isInpainting?: boolean;
  timestepCondDim?: number | null;
  textHiddenSize: number;
  unetMaxBatch: number | null;
  vaeScalingFactor: number;
  vaeEncoder: 'latent_sample' | 'latent_parameters' | null | string;
  schedulerClassName?: string;
  schedulerConfig: SchedulerConfig;
  /** Training resolution (unet sample_size × 8): the size of a request that gives none. */
  nativeSize?: number;
  /** SDXL only (engine/model's ModelFacts.sdxl): what the second text encoder and the UNet's added conditioning take. */
  sdxl?: SdxlPipelineFacts;
  /** Optional display name (infotext "Model"). */
  name?: string;
  /** What the memory estimate needs; SD 1.5's shapes when absent. */
  memory?: ModelMemoryFacts;
  dir?: string;
}

export interface SdxlPipelineFacts {
  textHiddenSize2: number;
  pooledDim: number;
  forceZerosForEmptyPrompt: boolean;
}

export interface PipelineModel {
  readonly info: PipelineModelInfo;
  /** The model folder, where per-model caches (the fitted preview factors) live; absent for in-memory models. */
  readonly dir?: string;
  readonly tokenizer: PromptTokenizer;
  /** SDXL's second tokenizer and text encoder (penultimate hidden states and pooled projection). */
  readonly tokenizer2?: PromptTokenizer | undefined;
  encodeText2?(ids: number[][]): MaybePromise<{ hidden: Float32Array; pooled: Float32Array }>;
  encodeText(ids: number[][]): MaybePromise<Float32Array>;
  predictNoise(args: PredictNoiseArgs): MaybePromise<Float32Array>;
  encodeImage(pixels: Float32Array, height: number, width: number): MaybePromise<EncodedImageLatent>;
  decodeLatents(latents: Float32Array, batch: number, latentHeight: number, latentWidth: number): MaybePromise<Float32Array>;
}

export interface ProgressEvent {
  /** 0-based index of the image in the batch. */
  image: number;
  /** Steps done for this image (1..totalSteps). */
  step: number;
  totalSteps: number;
  /** Since generate() started. */
  elapsedMs: number;
  /** Estimated time left for the whole request (all images). */
  etaMs: number;
}

export interface PreviewEvent {
  image: number;
  step: number;
  /**
   * 'latent': latent → RGB approximation (with the model's fitted factors) at latent resolution
   * (h/8 × w/8; the UI upscales), except for inpainting (see `picture`); 'decoded': full VAE decode.
   */
  kind: 'latent' | 'decoded';
  width: number;
  height: number;
  /** width·height·4 bytes. */
  rgba: Uint8Array;
  /**
   * The size of the finished picture this frame stands for (the canvas: for only-masked inpainting the
   * init image's size, not the generated crop's). The frame covers the whole picture: scaled to this size
   * it lies on the canvas at (0, 0). Inpainting frames are composited at this size already: the init image
   * outside the mask, the preview inside it (pasted back into the crop's place for only-masked).
   */
  pictureWidth?: number;
  pictureHeight?: number;
}

export interface GenerateHooks {
  signal?: AbortSignal;
  onProgress?(e: ProgressEvent): void;
  onPreview?(e: PreviewEvent): void;
  /**
   * Called with each image as soon as it is finished (PNG encoded), before the next one starts, so that a
   * caller can deliver or save it at once; the pipeline waits for a returned promise. Images handed over
   * here stay delivered when a later image is cancelled or fails.
   */
  onImage?(result: GenerateResult, index: number): void | Promise<void>;
  /** Infotext "Model" value; default: model.info.name, else the basename of request.model / model.info.dir. */
  modelName?: string;
  /**
   * The memory (bytes) this job may grow by; default: what this process can still have (memory-guard.ts
   * availableMemoryBytes: cgroup limit, MemAvailable, LATENT_STUDIO_MEMORY_LIMIT).
   */
  memoryLimitBytes?: number;
}

/** How the job was fitted into memory (memory-guard.ts), the same on every image of a request. */
export interface MemoryReport {
  /** The VAE decoded / encoded in overlapping tiles (diffusers' enable_vae_tiling). */
  vaeTiling: boolean;
  /** Classifier-free guidance ran as two batch-1 UNet calls because one batch-2 call would not fit. */
  sequentialCfg: boolean;
  /** The estimated peak growth of the largest stage, and the memory the process could have at the start. */
  estimatedPeakBytes: number;
  availableBytes: number;
}

/** The request as stored in results and PNG metadata: JSON-safe, binary inputs replaced by their SHA-256. */
export type StoredRequest = Omit<NormalizedRequest, 'initImage' | 'mask' | 'seed'> & {
  seed: string;
  initImage?: { sha256: string; bytes: number };
  mask?: { sha256: string; bytes: number };
};

export interface GenerateResult {
  /** PNG with `parameters` (A1111 infotext) and `latent-studio` (JSON request) text chunks. */
  png: Uint8Array;
  width: number;
  height: number;
  seed: string;
  infotext: string;
  request: StoredRequest;
  /** Where this image's time went. */
  timings: GenerateTimings;
  /** The memory plan the job ran with. */
  memory: MemoryReport;
}

/**
 * Timings of one image, in milliseconds. The prompt and the init image are encoded once per request:
 * `encodePromptMs` and `prepareImageMs` are that shared time, the same on every image of a batch.
 */
export interface GenerateTimings {
  /** From the start of the request to this image's PNG (the last image's is the whole request). */
  totalMs: number;
  /** This image alone: from its seed to its PNG. */
  imageMs: number;
  /** Prompt (and negative prompt) → text-encoder hidden states; once per request. */
  encodePromptMs: number;
  /** Init image and mask decoded, fitted and VAE-encoded; once per request, 0 for text-to-image. */
  prepareImageMs: number;
  /** Timesteps and initial latents (noise, sampling the encoded image, noising it to the first step). */
  prepareLatentsMs: number;
  /** Denoising steps run (model calls as the scheduler counts them: PNDM N + 1, Heun 2N − 1). */
  steps: number;
  /** All denoising steps: UNet call(s), guidance, scheduler step, inpaint blend. */
  denoiseMs: number;
  /** Mean wall time of one denoising step. */
  stepMs: number;
  /** UNet calls (two per step for CFG on a batch-1 UNet or with cfgMode 'sequential'). */
  unetCalls: number;
  /** Latent previews made, and the mean time of one (x0 estimate → RGB), 0 if none. */
  previews: number;
  previewMs: number;
  /** VAE-decoded previews made, and the mean time of one, 0 if none. */
  decodedPreviews: number;
  decodedPreviewMs: number;
  /** The final VAE decode, including the init image composite / paste-back. */
  decodeMs: number;
  /** Infotext, stored request and PNG encoding. */
  outputMs: number;
}

export type { GenerationMode } from '../../shared/generation-mode.js';
