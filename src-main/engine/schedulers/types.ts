// The one contract every scheduler implements, after diffusers' SchedulerMixin.
// Samples are flat float32 arrays in NCHW order; a scheduler never needs the shape,
// because torch's randn stream depends only on the number of elements drawn.

import type { SamplerName } from '../../shared/generation-limits.js';

/** Anything that draws standard normal float32 values the way torch.randn does (TorchGenerator). */
export interface NoiseSource {
  randn(shape: readonly number[]): Float32Array;
}

/** The sampler names of the request contract (src-main/shared/generation-limits.ts). */
export type SchedulerName = SamplerName;

/** A model's scheduler/scheduler_config.json, keys as they are (snake_case). */
export type SchedulerConfig = Record<string, unknown>;

export interface StepOptions {
  /** Needed by schedulers that draw noise (ddpm, ddim with eta > 0, euler-ancestral, lcm). */
  generator?: NoiseSource;
  /** DDIM only: 0 is deterministic DDIM, 1 is DDPM-like. */
  eta?: number;
}

export interface StepResult {
  prevSample: Float32Array;
  /** The model's estimate of the clean latent at this step (used for live previews). */
  predOriginalSample?: Float32Array;
}

export interface SetTimestepsOptions {
  /** LCM img2img: diffusers' `set_timesteps(n, strength=...)`. Ignored by other schedulers. */
  strength?: number;
}

export interface Scheduler {
  readonly name: SchedulerName;
  /** The resolved configuration: diffusers defaults of this scheduler, then the given keys. */
  readonly config: Readonly<SchedulerConfig>;
  /** Model calls per solver step as diffusers counts them (Heun 2, others 1). */
  readonly order: number;
  /** The model calls of one run, in order (Heun has 2N-1 entries, PNDM N+1). */
  timesteps: number[];
  /** Euler-type schedulers: length timesteps.length + 1, ending with the final sigma. */
  sigmas?: number[];
  initNoiseSigma: number;
  setTimesteps(numInferenceSteps: number, options?: SetTimestepsOptions): void;
  /** diffusers' set_begin_index: the index into `timesteps` of the first model call (img2img). */
  setBeginIndex(beginIndex: number): void;
  scaleModelInput(sample: Float32Array, timestep: number): Float32Array;
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options?: StepOptions): StepResult;
  /** The sample noised to `timesteps[stepIndex]` (diffusers' add_noise after set_begin_index(stepIndex)). */
  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array;
}
