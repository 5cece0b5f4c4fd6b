// DDPMScheduler (diffusers v0.40.0 scheduling_ddpm.py), float32 op for op. Variance types fixed_small,
// fixed_small_log and fixed_large; fixed_large_log (NaN in diffusers: sqrt of a log) and the learned ones (a
// 2x-channel model output) are rejected. `previous_timestep` is the next entry of the schedule (diffusers >= 0.32).

import {
  addNoiseAlphaCumprod,
  assertSameLength,
  cfgBool,
  cfgNumber,
  cfgString,
  drawNoise,
  f32,
  sqrt32,
  getNoiseSchedule,
  intTimesteps,
  predictionTypeOf,
  resolveConfig,
  timestepSpacingOf,
  type NoiseSchedule,
  type PredictionType,
  type TimestepSpacing,
} from './common.js';
import type { Scheduler, SchedulerConfig, StepOptions, StepResult } from './types.js';

/** diffusers DDPMScheduler.__init__ defaults. */
export const DDPM_DEFAULTS: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  variance_type: 'fixed_small',
  clip_sample: true,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  clip_sample_range: 1.0,
  sample_max_value: 1.0,
  timestep_spacing: 'leading',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
});

type VarianceType = 'fixed_small' | 'fixed_small_log' | 'fixed_large';

export class DDPMScheduler implements Scheduler {
  readonly name = 'ddpm' as const;
  readonly config: Readonly<SchedulerConfig>;
  readonly order = 1;
  timesteps: number[] = [];
  initNoiseSigma = 1.0;

  private readonly schedule: NoiseSchedule;
  private readonly prediction: PredictionType;
  private readonly spacing: TimestepSpacing;
  private readonly varianceType: VarianceType;
  private readonly clipSample: boolean;
  private readonly clipRange: number;
  private numInferenceSteps: number | null = null;

  constructor(config?: SchedulerConfig) {
    this.config = Object.freeze(resolveConfig(DDPM_DEFAULTS, config));
    if (cfgBool(this.config, 'thresholding', false)) throw new Error('DDPM: thresholding is not supported');
    this.schedule = getNoiseSchedule(this.config);
    this.prediction = predictionTypeOf(this.config, ['epsilon', 'sample', 'v_prediction']);
    this.spacing = timestepSpacingOf(this.config, 'leading');
    const vt = cfgString(this.config, 'variance_type', 'fixed_small');
    if (vt !== 'fixed_small' && vt !== 'fixed_small_log' && vt !== 'fixed_large') {
      throw new Error(`DDPM: variance_type ${vt} is not supported`);
    }
    this.varianceType = vt;
    this.clipSample = cfgBool(this.config, 'clip_sample', true);
    this.clipRange = cfgNumber(this.config, 'clip_sample_range', 1.0);
  }

  setTimesteps(numInferenceSteps: number): void {
    const T = this.schedule.numTrainTimesteps;
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) throw new Error(`invalid numInferenceSteps ${numInferenceSteps}`);
    if (numInferenceSteps > T) throw new Error(`num_inference_steps ${numInferenceSteps} cannot be larger than ${T}`);
    this.numInferenceSteps = numInferenceSteps;
    this.timesteps = intTimesteps(this.spacing, numInferenceSteps, T, cfgNumber(this.config, 'steps_offset', 0));
  }

  /** DDPM indexes by timestep value; the begin index is not needed. */
  setBeginIndex(_beginIndex: number): void {}

  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  /** diffusers `previous_timestep`: the entry after the first match of `timestep`, -1 after the last. */
  private previousTimestep(timestep: number): number {
    if (this.numInferenceSteps === null) return timestep - 1;
    const index = this.timesteps.indexOf(timestep);
    if (index < 0) throw new Error(`DDPM: timestep ${timestep} is not in the schedule`);
    return index === this.timesteps.length - 1 ? -1 : this.timesteps[index + 1]!;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options: StepOptions = {}): StepResult {
    assertSameLength(modelOutput, sample, 'DDPM.step');
    const t = timestep;
    const prevT = this.previousTimestep(t);
    const ac = this.schedule.alphasCumprod;
    const aT = ac[t];
    if (aT === undefined) throw new Error(`DDPM: timestep ${t} out of range`);
    const aPrev = prevT >= 0 ? ac[prevT]! : 1.0;
    const betaT = f32(1 - aT);
    const betaPrev = f32(1 - aPrev);
    const curAlpha = f32(aT / aPrev);
    const curBeta = f32(1 - curAlpha);
    const n = sample.length;

    let x0: Float32Array;
    if (this.prediction === 'epsilon') {
      x0 = new Float32Array(n);
      const sb = sqrt32(betaT);
      const sa = sqrt32(aT);
      for (let i = 0; i < n; i++) x0[i] = f32(sample[i]! - f32(sb * modelOutput[i]!)) / sa;
    } else if (this.prediction === 'sample') {
      x0 = Float32Array.from(modelOutput);
    } else {
      x0 = new Float32Array(n);
      const sb = sqrt32(betaT);
      const sa = sqrt32(aT);
      for (let i = 0; i < n; i++) x0[i] = f32(sa * sample[i]!) - f32(sb * modelOutput[i]!);
    }
    if (this.clipSample) {
      const r = f32(this.clipRange);
      for (let i = 0; i < n; i++) x0[i] = Math.min(Math.max(x0[i]!, -r), r);
    }

    const x0Coeff = f32(f32(sqrt32(aPrev) * curBeta) / betaT);
    const curCoeff = f32(f32(sqrt32(curAlpha) * betaPrev) / betaT);
    const prev = new Float32Array(n);
    for (let i = 0; i < n; i++) prev[i] = f32(x0Coeff * x0[i]!) + f32(curCoeff * sample[i]!);

    if (t > 0) {
      const noise = drawNoise(options.generator, sample, 'DDPM.step');
      // _get_variance (recomputes current_beta_t the same way)
      let variance = f32(f32(betaPrev / betaT) * curBeta);
      variance = Math.max(variance, f32(1e-20));
      let std: number;
      switch (this.varianceType) {
        case 'fixed_small':
          std = sqrt32(variance);
          break;
        case 'fixed_small_log':
          // exp(0.5 * log(variance)), multiplied by the noise directly
          std = f32(Math.exp(f32(0.5 * f32(Math.log(variance)))));
          break;
        case 'fixed_large':
          std = sqrt32(curBeta);
          break;
      }
      for (let i = 0; i < n; i++) prev[i] = prev[i]! + f32(std * noise[i]!);
    }
    return { prevSample: prev, predOriginalSample: x0 };
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    const t = this.timesteps[stepIndex];
    if (t === undefined) throw new Error(`DDPM.addNoise: step index ${stepIndex} out of range`);
    return addNoiseAlphaCumprod(original, noise, this.schedule.alphasCumprod[t]!);
  }
}
