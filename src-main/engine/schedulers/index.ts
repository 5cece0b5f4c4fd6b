// Scheduler registry: names, diffusers class names, construction, and img2img timestep selection.
// One file per algorithm (ddpm.ts, ddim.ts, ...) behind the one contract of types.ts; what several share lives in
// sigma-scheduler.ts / alpha-cumprod-scheduler.ts (the two base forms), predicted-x0.ts, config.ts,
// noise-schedule.ts, timesteps.ts, sigmas.ts, vector-ops.ts, and the torch/numpy/scipy ports in numerics/.

import { DDIMScheduler } from './ddim.js';
import { DDPMScheduler } from './ddpm.js';
import { DPMSolverMultistepScheduler } from './dpmpp-2m.js';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral.js';
import { EulerDiscreteScheduler } from './euler.js';
import { HeunDiscreteScheduler } from './heun.js';
import { LCMScheduler } from './lcm.js';
import { LMSDiscreteScheduler } from './lms.js';
import { PNDMScheduler } from './pndm.js';
import type { Scheduler, SchedulerConfig, SchedulerName } from './types.js';
import { UniPCMultistepScheduler } from './unipc.js';
import { SAMPLER_NAMES } from '../../shared/generation-limits.js';

export type { NoiseSource, Scheduler, SchedulerConfig, SchedulerName, SetTimestepsOptions, StepOptions, StepResult } from './types.js';
export { SD15_SCHEDULER_CONFIG } from './config.js';
export { getNoiseSchedule, type NoiseSchedule } from './noise-schedule.js';

type SchedulerFactory = (config?: SchedulerConfig) => Scheduler;

/** Every scheduler name of the contract, in UI order. */
export const schedulerNames = SAMPLER_NAMES;

/** One factory per sampler name of the contract: a name added there does not compile until it is built here. */
const registry: Readonly<Record<SchedulerName, SchedulerFactory>> = {
  ddpm: (c) => new DDPMScheduler(c),
  ddim: (c) => new DDIMScheduler(c),
  pndm: (c) => new PNDMScheduler(c),
  lms: (c) => new LMSDiscreteScheduler(c),
  euler: (c) => new EulerDiscreteScheduler(c),
  'euler-ancestral': (c) => new EulerAncestralDiscreteScheduler(c),
  heun: (c) => new HeunDiscreteScheduler(c),
  'dpmpp-2m': (c) => new DPMSolverMultistepScheduler(c),
  unipc: (c) => new UniPCMultistepScheduler(c),
  lcm: (c) => new LCMScheduler(c),
};

/** True for the 10 scheduler names of the contract. */
export function isSchedulerName(value: unknown): value is SchedulerName {
  return typeof value === 'string' && (schedulerNames as readonly string[]).includes(value);
}

/** The names that `createScheduler` builds, in UI order (all of `schedulerNames`). */
export function registeredSchedulerNames(): SchedulerName[] {
  return [...schedulerNames];
}

/**
 * A new scheduler with diffusers' defaults of that class and `config` (a model's scheduler_config.json,
 * snake_case keys) merged over them. Schedulers hold per-run state: create one per generation.
 */
export function createScheduler(name: SchedulerName, config?: SchedulerConfig): Scheduler {
  // `name` may come unchecked from JavaScript or a settings file.
  const factory = (registry as Partial<Record<string, SchedulerFactory>>)[name];
  if (!factory) throw new Error(`Scheduler "${name}" is not available`);
  return factory(config);
}

/** diffusers `_class_name` → our scheduler name. */
export const diffusersClassToScheduler: Readonly<Record<string, SchedulerName>> = Object.freeze({
  DDPMScheduler: 'ddpm',
  DDIMScheduler: 'ddim',
  PNDMScheduler: 'pndm',
  LMSDiscreteScheduler: 'lms',
  EulerDiscreteScheduler: 'euler',
  EulerAncestralDiscreteScheduler: 'euler-ancestral',
  HeunDiscreteScheduler: 'heun',
  DPMSolverMultistepScheduler: 'dpmpp-2m',
  UniPCMultistepScheduler: 'unipc',
  LCMScheduler: 'lcm',
});

/** Our scheduler name → diffusers class name. */
export const schedulerToDiffusersClass: Readonly<Record<SchedulerName, string>> = Object.freeze(
  Object.fromEntries(Object.entries(diffusersClassToScheduler).map(([cls, name]) => [name, cls])) as Record<SchedulerName, string>,
);

/** The scheduler a model folder's scheduler_config.json asks for (`_class_name`), or undefined if unknown. */
export function schedulerNameForDiffusersClass(className: unknown): SchedulerName | undefined {
  return typeof className === 'string' ? diffusersClassToScheduler[className] : undefined;
}

/** The default scheduler of a model's scheduler_config.json (`_class_name`), `fallback` if unknown or absent. */
export function defaultSchedulerFor(config: SchedulerConfig | undefined, fallback: SchedulerName = 'pndm'): SchedulerName {
  return schedulerNameForDiffusersClass(config?.['_class_name']) ?? fallback;
}

export interface Img2ImgTimesteps {
  /** Index into `scheduler.timesteps` of the first model call (already passed to `setBeginIndex`). */
  beginIndex: number;
  /** The model calls of the img2img run: `scheduler.timesteps.slice(beginIndex)`. `timesteps[0]` noises the latent. */
  timesteps: number[];
}

/**
 * Sets the scheduler up for img2img at `strength` and returns the model calls, as diffusers pipelines do.
 * Most schedulers copy StableDiffusionImg2ImgPipeline.get_timesteps: `setTimesteps(N)`,
 * `init = min(int(N*strength), N)`, `tStart = max(N - init, 0)`, slice at `tStart*order`, `setBeginIndex`.
 * LCM copies LatentConsistencyModelImg2ImgPipeline: `setTimesteps(N, { strength })` keeps the whole
 * (shorter) schedule, begin index 0. Then noise the latent with `scheduler.addNoise(x0, noise, beginIndex)`.
 * An empty `timesteps` (strength too low) means there is nothing to denoise.
 */
export function img2imgTimesteps(scheduler: Scheduler, numInferenceSteps: number, strength: number): Img2ImgTimesteps {
  if (!(strength >= 0 && strength <= 1)) throw new Error(`strength must be in [0, 1], got ${strength}`);
  if (scheduler.name === 'lcm') {
    scheduler.setTimesteps(numInferenceSteps, { strength });
    scheduler.setBeginIndex(0);
    return { beginIndex: 0, timesteps: [...scheduler.timesteps] };
  }
  scheduler.setTimesteps(numInferenceSteps);
  const initTimestep = Math.min(Math.trunc(numInferenceSteps * strength), numInferenceSteps);
  const tStart = Math.max(numInferenceSteps - initTimestep, 0);
  const beginIndex = tStart * scheduler.order;
  const timesteps = scheduler.timesteps.slice(beginIndex);
  scheduler.setBeginIndex(beginIndex);
  return { beginIndex, timesteps };
}
