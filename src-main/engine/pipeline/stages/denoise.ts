// Stage 5: the denoising loop. The timestep reaches the denoiser as an argument; guidance and
// inpainting live in the Denoiser / SchedulerStep wrappers (../denoiser.ts).
import { performance } from 'node:perf_hooks';
import type { Scheduler } from '../../schedulers/types.js';
import type { Denoiser, SchedulerStep } from '../denoiser.js';
import { GenerationAbortError, throwIfAborted } from '../errors.js';
import { estimateX0 } from '../estimate-x0.js';
import { assertFinite } from '../tensor.js';

export interface DenoiseLoop {
  scheduler: Scheduler;
  timesteps: readonly number[];
  denoiser: Denoiser;
  step: SchedulerStep;
  signal: AbortSignal | undefined;
  /** After every step (1-based count): progress and previews; `x0` gives the step's clean-latent estimate. */
  afterStep(step: number, x0: () => Float32Array): Promise<void>;
}

/** Runs every timestep from `latents` [1, 4, h, w]; returns the final latents and the time spent stepping. */
export async function denoise(latents: Float32Array, loop: DenoiseLoop): Promise<{ latents: Float32Array; denoiseMs: number }> {
  const { scheduler, timesteps, denoiser, step, signal } = loop;
  let denoiseMs = 0;
  for (let i = 0; i < timesteps.length; i++) {
    const started = performance.now();
    const t = timesteps[i]!;
    throwIfAborted(signal);
    const sample = latents;
    const modelOutput = await denoiser(scheduler.scaleModelInput(sample, t), t);
    const out = step(modelOutput, t, sample, i);
    latents = out.prevSample;
    assertFinite(latents, 'latents', i + 1);
    denoiseMs += performance.now() - started;

    await loop.afterStep(i + 1, () => out.predOriginalSample ?? estimateX0(scheduler, sample, modelOutput, t));
    if (signal?.aborted) throw new GenerationAbortError();
  }
  return { latents, denoiseMs };
}
