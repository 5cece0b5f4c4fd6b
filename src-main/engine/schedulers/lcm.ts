// LCMScheduler (diffusers v0.40.0 scheduling_lcm.py), float32 op for op. Ignores timestep_spacing and
// steps_offset like diffusers. Every step but the last draws one randn; the last returns `denoised`.

import { AlphaCumprodScheduler } from './alpha-cumprod-scheduler.js';
import { assertStepCount, cfgNumber, sampleClipRangeOf } from './config.js';
import { sqrt32 } from './numerics/float32.js';
import { npLinspace } from './numerics/numpy.js';
import { clipSampleInPlace, x0FromAlphaSigma } from './predicted-x0.js';
import { indexForTimestep } from './timesteps.js';
import type { SchedulerConfig, SetTimestepsOptions, StepOptions, StepResult } from './types.js';
import { assertSameLength, drawNoise } from './vector-ops.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

/** diffusers LCMScheduler.__init__ defaults. */
export const LCM_DEFAULTS: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  trained_betas: null,
  original_inference_steps: 50,
  clip_sample: false,
  clip_sample_range: 1.0,
  set_alpha_to_one: true,
  steps_offset: 0,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  sample_max_value: 1.0,
  timestep_spacing: 'leading',
  timestep_scaling: 10.0,
  rescale_betas_zero_snr: false,
});

export class LCMScheduler extends AlphaCumprodScheduler {
  readonly name = 'lcm' as const;

  private readonly finalAlphaCumprod: number;
  private readonly clipRange: number | null;
  private stepIndex: number | null = null;
  private beginIndex: number | null = null;

  constructor(config?: SchedulerConfig) {
    super({ who: 'LCM', defaults: LCM_DEFAULTS, config, predictions: ['epsilon', 'sample', 'v_prediction'], zeroSnrOption: true, thresholdingOption: true });
    this.finalAlphaCumprod = this.readFinalAlphaCumprod(true);
    this.clipRange = sampleClipRangeOf(this.config, false);
  }

  /** `set_timesteps(N, strength=...)`: N entries of the `original_inference_steps` schedule (cut by strength). */
  setTimesteps(numInferenceSteps: number, options: SetTimestepsOptions = {}): void {
    const strength = options.strength ?? 1.0;
    const T = this.schedule.numTrainTimesteps;
    const originalSteps = cfgNumber(this.config, 'original_inference_steps', 50);
    if (originalSteps > T) throw new Error(`\`original_steps\`: ${originalSteps} cannot be larger than ${T}`);
    assertStepCount(numInferenceSteps, 'LCM', T);
    const k = Math.floor(T / originalSteps);
    const count = Math.trunc(originalSteps * strength);
    const origin: number[] = [];
    for (let i = 1; i <= count; i++) origin.push(i * k - 1);
    const skippingStep = Math.floor(origin.length / numInferenceSteps);
    if (skippingStep < 1) {
      throw new Error(
        `The combination of \`original_steps x strength\`: ${originalSteps} x ${strength} is smaller than \`num_inference_steps\`: ${numInferenceSteps}.`,
      );
    }
    if (numInferenceSteps > originalSteps) {
      throw new Error(`num_inference_steps ${numInferenceSteps} cannot be larger than original_inference_steps ${originalSteps}`);
    }
    origin.reverse();
    const indices = npLinspace(0, origin.length, numInferenceSteps, false).map(Math.floor);
    this.numInferenceSteps = numInferenceSteps;
    this.timesteps = indices.map((i) => origin[i]!);
    this.stepIndex = null;
    this.beginIndex = null;
  }

  /** LCM counts its steps like the sigma schedulers: img2img starts at the begin index. */
  override setBeginIndex(beginIndex: number): void {
    this.beginIndex = beginIndex;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options: StepOptions = {}): StepResult {
    const numInferenceSteps = this.stepCount();
    assertSameLength(modelOutput, sample, 'LCM.step');
    if (this.stepIndex === null) this.stepIndex = this.beginIndex ?? indexForTimestep(this.timesteps, timestep);
    const idx = this.stepIndex;
    const prevIdx = idx + 1;
    const prevT = prevIdx < this.timesteps.length ? this.timesteps[prevIdx]! : timestep;
    const ac = this.schedule.alphasCumprod;
    const aT = ac[timestep];
    if (aT === undefined) throw new Error(`LCM: timestep ${timestep} out of range`);
    const aPrev = prevT >= 0 ? ac[prevT]! : this.finalAlphaCumprod;
    const betaT = f32(1 - aT);
    const betaPrev = f32(1 - aPrev);
    // get_scalings_for_boundary_condition_discrete (float32: the timestep is an int64 tensor)
    const st = f32(f32(timestep) * f32(cfgNumber(this.config, 'timestep_scaling', 10.0)));
    const st2 = f32(st * st);
    const cSkip = f32(0.25 / f32(st2 + 0.25));
    const cOut = f32(st / sqrt32(f32(st2 + 0.25)));
    const n = sample.length;
    const x0 = x0FromAlphaSigma(this.prediction, sqrt32(aT), sqrt32(betaT), modelOutput, sample);
    if (this.clipRange !== null) clipSampleInPlace(x0, this.clipRange);
    const denoised = new Float32Array(n);
    for (let i = 0; i < n; i++) denoised[i] = f32(cOut * x0[i]!) + f32(cSkip * sample[i]!);
    let prev: Float32Array;
    if (idx !== numInferenceSteps - 1) {
      const noise = drawNoise(options.generator, sample, 'LCM.step');
      const sa = sqrt32(aPrev);
      const sb = sqrt32(betaPrev);
      prev = new Float32Array(n);
      for (let i = 0; i < n; i++) prev[i] = f32(sa * denoised[i]!) + f32(sb * noise[i]!);
    } else {
      prev = denoised;
    }
    this.stepIndex = idx + 1;
    return { prevSample: prev, predOriginalSample: denoised };
  }
}
