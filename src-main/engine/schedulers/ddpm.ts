// DDPMScheduler (diffusers v0.40.0 scheduling_ddpm.py), float32 op for op. Variance types fixed_small,
// fixed_small_log and fixed_large; fixed_large_log (NaN in diffusers: sqrt of a log) and the learned ones (a
// 2x-channel model output) are rejected. `previous_timestep` is the next entry of the schedule (diffusers >= 0.32).

import { AlphaCumprodScheduler } from './alpha-cumprod-scheduler.js';
import { assertStepCount, cfgNumber, cfgString, sampleClipRangeOf, timestepSpacingOf, type TimestepSpacing } from './config.js';
import { sqrt32 } from './numerics/float32.js';
import { clipSampleInPlace, x0FromAlphaSigma } from './predicted-x0.js';
import { intTimesteps } from './timesteps.js';
import type { SchedulerConfig, StepOptions, StepResult } from './types.js';
import { assertSameLength, drawNoise } from './vector-ops.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

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

export class DDPMScheduler extends AlphaCumprodScheduler {
  readonly name = 'ddpm' as const;

  private readonly spacing: TimestepSpacing;
  private readonly varianceType: VarianceType;
  private readonly clipRange: number | null;

  constructor(config?: SchedulerConfig) {
    super({ who: 'DDPM', defaults: DDPM_DEFAULTS, config, predictions: ['epsilon', 'sample', 'v_prediction'], zeroSnrOption: true, thresholdingOption: true });
    this.spacing = timestepSpacingOf(this.config, 'leading');
    const vt = cfgString(this.config, 'variance_type', 'fixed_small');
    if (vt !== 'fixed_small' && vt !== 'fixed_small_log' && vt !== 'fixed_large') {
      throw new Error(`DDPM: variance_type ${vt} is not supported`);
    }
    this.varianceType = vt;
    this.clipRange = sampleClipRangeOf(this.config, true);
  }

  setTimesteps(numInferenceSteps: number): void {
    const T = this.schedule.numTrainTimesteps;
    assertStepCount(numInferenceSteps, 'DDPM', T);
    this.numInferenceSteps = numInferenceSteps;
    this.timesteps = intTimesteps(this.spacing, numInferenceSteps, T, cfgNumber(this.config, 'steps_offset', 0));
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

    const x0 = x0FromAlphaSigma(this.prediction, sqrt32(aT), sqrt32(betaT), modelOutput, sample);
    if (this.clipRange !== null) clipSampleInPlace(x0, this.clipRange);

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
}
