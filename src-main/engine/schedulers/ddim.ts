// DDIMScheduler (diffusers v0.40.0 scheduling_ddim.py), float32 op for op.

import { AlphaCumprodScheduler } from './alpha-cumprod-scheduler.js';
import { assertStepCount, cfgNumber, sampleClipRangeOf, timestepSpacingOf, type TimestepSpacing } from './config.js';
import { sqrt32 } from './numerics/float32.js';
import { clipSampleInPlace, x0FromAlphaSigma } from './predicted-x0.js';
import { intTimesteps } from './timesteps.js';
import type { SchedulerConfig, StepOptions, StepResult } from './types.js';
import { assertSameLength, drawNoise } from './vector-ops.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

/** diffusers DDIMScheduler.__init__ defaults. */
export const DDIM_DEFAULTS: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  clip_sample: true,
  set_alpha_to_one: true,
  steps_offset: 0,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  clip_sample_range: 1.0,
  sample_max_value: 1.0,
  timestep_spacing: 'leading',
  rescale_betas_zero_snr: false,
});

export class DDIMScheduler extends AlphaCumprodScheduler {
  readonly name = 'ddim' as const;

  private readonly finalAlphaCumprod: number;
  private readonly spacing: TimestepSpacing;
  private readonly clipRange: number | null;

  constructor(config?: SchedulerConfig) {
    super({ who: 'DDIM', defaults: DDIM_DEFAULTS, config, predictions: ['epsilon', 'sample', 'v_prediction'], zeroSnrOption: true, thresholdingOption: true });
    this.finalAlphaCumprod = this.readFinalAlphaCumprod(true);
    this.spacing = timestepSpacingOf(this.config, 'leading');
    this.clipRange = sampleClipRangeOf(this.config, true);
  }

  setTimesteps(numInferenceSteps: number): void {
    const T = this.schedule.numTrainTimesteps;
    assertStepCount(numInferenceSteps, 'DDIM', T);
    this.numInferenceSteps = numInferenceSteps;
    this.timesteps = intTimesteps(this.spacing, numInferenceSteps, T, cfgNumber(this.config, 'steps_offset', 0));
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options: StepOptions = {}): StepResult {
    const numInferenceSteps = this.stepCount();
    assertSameLength(modelOutput, sample, 'DDIM.step');
    const eta = options.eta ?? 0;
    const ac = this.schedule.alphasCumprod;
    const prevTimestep = timestep - Math.floor(this.schedule.numTrainTimesteps / numInferenceSteps);
    const aT = ac[timestep]!;
    if (aT === undefined) throw new Error(`DDIM: timestep ${timestep} out of range`);
    const aPrev = prevTimestep >= 0 ? ac[prevTimestep]! : this.finalAlphaCumprod;
    const betaT = f32(1 - aT);
    const sqrtAT = sqrt32(aT);
    const sqrtBetaT = sqrt32(betaT);
    const n = sample.length;

    const x0 = x0FromAlphaSigma(this.prediction, sqrtAT, sqrtBetaT, modelOutput, sample);
    // The noise estimate ("pred_epsilon") from the same model output.
    let eps: Float32Array;
    if (this.prediction === 'epsilon') {
      eps = modelOutput;
    } else {
      eps = new Float32Array(n);
      if (this.prediction === 'sample') for (let i = 0; i < n; i++) eps[i] = f32(sample[i]! - f32(sqrtAT * x0[i]!)) / sqrtBetaT;
      else for (let i = 0; i < n; i++) eps[i] = f32(sqrtAT * modelOutput[i]!) + f32(sqrtBetaT * sample[i]!);
    }
    if (this.clipRange !== null) clipSampleInPlace(x0, this.clipRange);

    // _get_variance
    const betaPrev = f32(1 - aPrev);
    const variance = f32(f32(betaPrev / betaT) * f32(1 - f32(aT / aPrev)));
    const std = f32(f32(eta) * sqrt32(variance));
    const dirCoef = sqrt32(f32(f32(1 - aPrev) - f32(std * std)));
    const sqrtAPrev = sqrt32(aPrev);
    const prev = new Float32Array(n);
    for (let i = 0; i < n; i++) prev[i] = f32(sqrtAPrev * x0[i]!) + f32(dirCoef * eps[i]!);
    if (eta > 0) {
      const noise = drawNoise(options.generator, sample, 'DDIM.step (eta > 0)');
      for (let i = 0; i < n; i++) prev[i] = prev[i]! + f32(std * noise[i]!);
    }
    return { prevSample: prev, predOriginalSample: x0 };
  }
}
