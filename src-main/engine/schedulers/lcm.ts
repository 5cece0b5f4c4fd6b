// LCMScheduler (diffusers v0.40.0 scheduling_lcm.py), float32 op for op. Ignores timestep_spacing and
// steps_offset like diffusers. Every step but the last draws one randn; the last returns `denoised`.

import {
  addNoiseAlphaCumprod,
  assertSameLength,
  cfgBool,
  cfgNumber,
  drawNoise,
  f32,
  sqrt32,
  getNoiseSchedule,
  indexForTimestep,
  npLinspace,
  predictionTypeOf,
  resolveConfig,
  type NoiseSchedule,
  type PredictionType,
} from './common.js';
import type { Scheduler, SchedulerConfig, SetTimestepsOptions, StepOptions, StepResult } from './types.js';

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

export class LCMScheduler implements Scheduler {
  readonly name = 'lcm' as const;
  readonly config: Readonly<SchedulerConfig>;
  readonly order = 1;
  timesteps: number[] = [];
  initNoiseSigma = 1.0;

  private readonly schedule: NoiseSchedule;
  private readonly finalAlphaCumprod: number;
  private readonly prediction: PredictionType;
  private readonly clipSample: boolean;
  private readonly clipRange: number;
  private numInferenceSteps: number | null = null;
  private stepIndex: number | null = null;
  private beginIndex: number | null = null;

  constructor(config?: SchedulerConfig) {
    this.config = Object.freeze(resolveConfig(LCM_DEFAULTS, config));
    if (cfgBool(this.config, 'thresholding', false)) throw new Error('LCM: thresholding is not supported');
    this.schedule = getNoiseSchedule(this.config);
    this.finalAlphaCumprod = cfgBool(this.config, 'set_alpha_to_one', true) ? 1.0 : this.schedule.alphasCumprod[0]!;
    this.prediction = predictionTypeOf(this.config, ['epsilon', 'sample', 'v_prediction']);
    this.clipSample = cfgBool(this.config, 'clip_sample', false);
    this.clipRange = cfgNumber(this.config, 'clip_sample_range', 1.0);
  }

  /** `set_timesteps(N, strength=...)`: N entries of the `original_inference_steps` schedule (cut by strength). */
  setTimesteps(numInferenceSteps: number, options: SetTimestepsOptions = {}): void {
    const strength = options.strength ?? 1.0;
    const T = this.schedule.numTrainTimesteps;
    const originalSteps = cfgNumber(this.config, 'original_inference_steps', 50);
    if (originalSteps > T) throw new Error(`\`original_steps\`: ${originalSteps} cannot be larger than ${T}`);
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) throw new Error(`invalid numInferenceSteps ${numInferenceSteps}`);
    const k = Math.floor(T / originalSteps);
    const count = Math.trunc(originalSteps * strength);
    const origin: number[] = [];
    for (let i = 1; i <= count; i++) origin.push(i * k - 1);
    if (numInferenceSteps > T) throw new Error(`num_inference_steps ${numInferenceSteps} cannot be larger than ${T}`);
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

  setBeginIndex(beginIndex: number): void {
    this.beginIndex = beginIndex;
  }

  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options: StepOptions = {}): StepResult {
    if (this.numInferenceSteps === null) throw new Error("LCM: run 'setTimesteps' before 'step'");
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
    const x0 = new Float32Array(n);
    if (this.prediction === 'epsilon') {
      const sb = sqrt32(betaT);
      const sa = sqrt32(aT);
      for (let i = 0; i < n; i++) x0[i] = f32(sample[i]! - f32(sb * modelOutput[i]!)) / sa;
    } else if (this.prediction === 'sample') {
      x0.set(modelOutput);
    } else {
      const sb = sqrt32(betaT);
      const sa = sqrt32(aT);
      for (let i = 0; i < n; i++) x0[i] = f32(sa * sample[i]!) - f32(sb * modelOutput[i]!);
    }
    if (this.clipSample) {
      const r = f32(this.clipRange);
      for (let i = 0; i < n; i++) x0[i] = Math.min(Math.max(x0[i]!, -r), r);
    }
    const denoised = new Float32Array(n);
    for (let i = 0; i < n; i++) denoised[i] = f32(cOut * x0[i]!) + f32(cSkip * sample[i]!);
    let prev: Float32Array;
    if (idx !== this.numInferenceSteps - 1) {
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

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    const t = this.timesteps[stepIndex];
    if (t === undefined) throw new Error(`LCM.addNoise: step index ${stepIndex} out of range`);
    return addNoiseAlphaCumprod(original, noise, this.schedule.alphasCumprod[t]!);
  }
}
