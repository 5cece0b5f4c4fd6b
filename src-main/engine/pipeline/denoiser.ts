// The denoiser: the UNet call, wrapped by guidance and inpainting (ComfyUI's CFGNoisePredictor /
// KSamplerX0Inpaint idea). The sampler loop only ever sees `Denoiser` and `SchedulerStep`.
import type { Scheduler, StepOptions, StepResult } from '../schedulers/types.js';
import type { AddedConditioning, TextConditioning } from './conditioning.js';
import { PipelineError, throwIfAborted } from './errors.js';
import { combineGuidance } from './guidance.js';
import { concatTensors, f32 } from './tensor.js';
import type { PipelineModel } from './types.js';

/** One image's model output at timestep t: x [1, C, h, w] (scaled by the scheduler) → [1, 4, h, w]. */
export type Denoiser = (x: Float32Array, t: number) => Promise<Float32Array>;

/** The UNet on `batch` samples stacked on the batch axis, each with its own text states. */
export interface UnetInput {
  /** [batch, C, h, w] */
  sample: Float32Array;
  batch: number;
  timestep: number;
  /** [batch, sequenceLength, hidden] */
  encoderHiddenStates: Float32Array;
  /** [1, timestepCondDim] (LCM), the same for every sample. */
  timestepCond?: Float32Array;
  /** SDXL: [batch, pooledDim] and [batch, 6], one row per sample. */
  textEmbeds?: Float32Array;
  timeIds?: Float32Array;
}
export type UnetCall = (input: UnetInput) => Promise<Float32Array>;

export interface UnetCallOptions {
  latentHeight: number;
  latentWidth: number;
  sequenceLength: number;
  signal: AbortSignal | undefined;
  /** Called before every UNet run (for counting). */
  onCall?: () => void;
}

/** model.predictNoise, checked for cancellation before and for its output size after. */
export function unetCall(model: PipelineModel, o: UnetCallOptions): UnetCall {
  const n = 4 * o.latentHeight * o.latentWidth;
  return async ({ sample, batch, timestep, encoderHiddenStates, timestepCond, textEmbeds, timeIds }) => {
    throwIfAborted(o.signal);
    o.onCall?.();
    // [batch, timestepCondDim] = the one embedding repeated
    const tc = timestepCond && batch > 1 ? concatTensors(Array.from({ length: batch }, () => timestepCond)) : timestepCond;
    const out = await model.predictNoise({
      sample,
      batch,
      latentHeight: o.latentHeight,
      latentWidth: o.latentWidth,
      timestep,
      encoderHiddenStates,
      sequenceLength: o.sequenceLength,
      ...(tc ? { timestepCond: tc } : {}),
      ...(textEmbeds ? { textEmbeds } : {}),
      ...(timeIds ? { timeIds } : {}),
    });
    if (out.length !== batch * n) throw new PipelineError('model-output', `UNet returned ${out.length} values, expected ${batch * n}`);
    return out;
  };
}

export type Guidance =
  /** One conditional pass. */
  | { kind: 'none' }
  /** uncond + scale·(cond − uncond), both passes in one batch-2 call or as two batch-1 calls. */
  | { kind: 'cfg'; scale: number; batched: boolean }
  /** LCM: the scale is in the embedding the UNet gets as timestep_cond; one conditional pass. */
  | { kind: 'embedded'; embedding: Float32Array };

/** A Denoiser from the UNet and the prompt, guided as asked. */
/** SDXL's added conditioning as UnetInput fields (nothing for other models). */
function addedInputs(a: AddedConditioning | undefined): Pick<UnetInput, 'textEmbeds' | 'timeIds'> {
  return a ? { textEmbeds: a.textEmbeds, timeIds: a.timeIds } : {};
}

export function withGuidance(unet: UnetCall, text: TextConditioning, guidance: Guidance): Denoiser {
  const cond = text.cond;
  const addedCond = addedInputs(text.added?.cond);
  if (guidance.kind === 'none') return (x, t) => unet({ sample: x, batch: 1, timestep: t, encoderHiddenStates: cond, ...addedCond });
  if (guidance.kind === 'embedded') {
    const { embedding } = guidance;
    return (x, t) => unet({ sample: x, batch: 1, timestep: t, encoderHiddenStates: cond, timestepCond: embedding, ...addedCond });
  }
  const uncond = text.uncond;
  if (!uncond) throw new Error('classifier-free guidance needs the negative prompt encoded');
  if (text.added && !text.added.uncond) throw new Error('classifier-free guidance needs the negative added conditioning (SDXL)');
  const addedUncond = addedInputs(text.added?.uncond);
  const { scale } = guidance;
  if (guidance.batched) {
    // [2, seq, hidden] = concat(uncond, cond); likewise text_embeds and time_ids (diffusers' CFG batch order)
    const both = concatTensors([uncond, cond]);
    const added = text.added ? { textEmbeds: concatTensors([addedUncond.textEmbeds!, addedCond.textEmbeds!]), timeIds: concatTensors([addedUncond.timeIds!, addedCond.timeIds!]) } : {};
    return async (x, t) => {
      // [2, C, h, w] = concat(x, x); the output is [2, 4, h, w] = (uncond, cond)
      const out = await unet({ sample: concatTensors([x, x]), batch: 2, timestep: t, encoderHiddenStates: both, ...added });
      const half = out.length / 2;
      return combineGuidance(out.subarray(0, half), out.subarray(half), scale);
    };
  }
  return async (x, t) => {
    const u = await unet({ sample: x, batch: 1, timestep: t, encoderHiddenStates: uncond, ...addedUncond });
    const c = await unet({ sample: x, batch: 1, timestep: t, encoderHiddenStates: cond, ...addedCond });
    return combineGuidance(u, c, scale);
  };
}

/**
 * A 9-channel inpainting UNet (diffusers StableDiffusionInpaintPipeline): the latents get the mask and
 * the masked image's latents appended on the channel axis.
 */
export function withInpaintConcat(denoiser: Denoiser, latentMask: Float32Array, maskedImageLatents: Float32Array): Denoiser {
  // [1, 9, h, w] = concat(x [1, 4, h, w], mask [1, 1, h, w], masked image latents [1, 4, h, w])
  return (x, t) => denoiser(concatTensors([x, latentMask, maskedImageLatents]), t);
}

/** One scheduler step; `index` is the position of `t` in the run's timesteps. */
export type SchedulerStep = (modelOutput: Float32Array, t: number, sample: Float32Array, index: number) => StepResult;

export function schedulerStep(scheduler: Scheduler, options: StepOptions): SchedulerStep {
  return (modelOutput, t, sample) => scheduler.step(modelOutput, t, sample, options);
}

export interface KnownLatents {
  /** The init image's latents [1, 4, h, w] and the noise that started the run. */
  imageLatents: Float32Array;
  noise: Float32Array;
  /** [1, 1, h, w], 1 = repaint. */
  latentMask: Float32Array;
  /** Index into the scheduler's timesteps of the run's first step. */
  beginIndex: number;
  /** Steps of the run. */
  steps: number;
}

/**
 * Inpainting with a plain 4-channel UNet (diffusers StableDiffusionInpaintPipeline, legacy path): after
 * every step, outside the mask the latents are replaced by the init latents noised to the next timestep
 * (un-noised after the last). The step's x0 estimate is left as it is.
 */
export function withInpaintBlend(step: SchedulerStep, scheduler: Scheduler, known: KnownLatents): SchedulerStep {
  const { imageLatents, noise, latentMask, beginIndex, steps } = known;
  const hw = latentMask.length;
  return (modelOutput, t, sample, index) => {
    const out = step(modelOutput, t, sample, index);
    const proper = index < steps - 1 ? scheduler.addNoise(imageLatents, noise, beginIndex + index + 1) : imageLatents;
    const latents = out.prevSample;
    const blended = new Float32Array(latents.length);
    for (let k = 0; k < latents.length; k++) {
      const m = latentMask[k % hw]!; // the [1, 1, h, w] mask broadcast over the 4 channels
      blended[k] = f32(f32(f32(1 - m) * proper[k]!) + f32(m * latents[k]!));
    }
    return { ...out, prevSample: blended };
  };
}
