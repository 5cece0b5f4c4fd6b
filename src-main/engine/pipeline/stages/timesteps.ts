// Stage 4a: the run's timesteps: all of them for text-to-image, the last strength·steps for an init image.
import { img2imgTimesteps } from '../../schedulers/index.js';
import type { Scheduler } from '../../schedulers/types.js';
import { PipelineError } from '../errors.js';
import type { GenerationPlan } from './check-inputs.js';

export interface RunTimesteps {
  timesteps: number[];
  /** Index into scheduler.timesteps of the first step (0 for text-to-image). */
  beginIndex: number;
}

export function prepareTimesteps(scheduler: Scheduler, plan: GenerationPlan, steps: number, strength: number): RunTimesteps {
  try {
    if (plan.mode === 'txt2img') {
      scheduler.setTimesteps(steps);
      return { timesteps: [...scheduler.timesteps], beginIndex: 0 };
    }
    return img2imgTimesteps(scheduler, steps, strength);
  } catch (err) {
    const how = plan.mode === 'txt2img' ? `${steps} steps` : `${steps} steps at strength ${strength}`;
    throw new PipelineError('invalid-request', `Sampler "${plan.sampler}" cannot run ${how}: ${(err as Error).message}`, { cause: err });
  }
}
