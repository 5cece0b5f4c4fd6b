// DDIMScheduler (diffusers v0.40.0 scheduling_ddim.py), float32 op for op.

import {
  addNoiseAlphaCumprod,
  assertSameLength,
  cfgBool,
  cfgNumber,
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

export class DDIMScheduler implements Scheduler {
  readonly name = 'ddim' as const;
  readonly config: Readonly<SchedulerConfig>;
  readonly order = 1;
  timesteps: number[] = [];
  initNoiseSigma = 1.0;

  private readonly schedule: NoiseSchedule;
  private readonly finalAlphaCumprod: number;
  private readonly prediction: PredictionType;
  private readonly spacing: TimestepSpacing;
  private readonly clipSample: boolean;
  private readonly clipRange: number;
  private numInferenceSteps: number | null = null;

  constructor(config?: SchedulerConfig) {
    this.config = Object.freeze(resolveConfig(DDIM_DEFAULTS, config));
    if (cfgBool(this.config, 'thresholding', false)) throw new Error('DDIM: thresholding is not supported');
    this.schedule = getNoiseSchedule(this.config);
    this.finalAlphaCumprod = cfgBool(this.config, 'set_alpha_to_one', true) ? 1.0 : this.schedule.alphasCumprod[0]!;
    this.prediction = predictionTypeOf(this.config, ['epsilon', 'sample', 'v_prediction']);
    this.spacing = timestepSpacingOf(this.config, 'leading');
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

  /** DDIM indexes by timestep value; the begin index is not needed. */
  setBeginIndex(_beginIndex: number): void {}

  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options: StepOptions = {}): StepResult {
    if (this.numInferenceSteps === null) throw new Error("DDIM: run 'setTimesteps' before 'step'");
    assertSameLength(modelOutput, sample, 'DDIM.step');
    const eta = options.eta ?? 0;
    const ac = this.schedule.alphasCumprod;
    const prevTimestep = timestep - Math.floor(this.schedule.numTrainTimesteps / this.numInferenceSteps);
    const aT = ac[timestep]!;
    if (aT === undefined) throw new Error(`DDIM: timestep ${timestep} out of range`);
    const aPrev = prevTimestep >= 0 ? ac[prevTimestep]! : this.finalAlphaCumprod;
    const betaT = f32(1 - aT);
    const sqrtAT = sqrt32(aT);
    const sqrtBetaT = sqrt32(betaT);
    const n = sample.length;

    const x0 = new Float32Array(n);
    let eps: Float32Array;
    if (this.prediction === 'epsilon') {
      for (let i = 0; i < n; i++) x0[i] = f32(sample[i]! - f32(sqrtBetaT * modelOutput[i]!)) / sqrtAT;
      eps = modelOutput;
    } else if (this.prediction === 'sample') {
      x0.set(modelOutput);
      eps = new Float32Array(n);
      for (let i = 0; i < n; i++) eps[i] = f32(sample[i]! - f32(sqrtAT * x0[i]!)) / sqrtBetaT;
    } else {
      eps = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        x0[i] = f32(sqrtAT * sample[i]!) - f32(sqrtBetaT * modelOutput[i]!);
        eps[i] = f32(sqrtAT * modelOutput[i]!) + f32(sqrtBetaT * sample[i]!);
      }
    }
    if (this.clipSample) {
      const r = f32(this.clipRange);
      for (let i = 0; i < n; i++) x0[i] = Math.min(Math.max(x0[i]!, -r), r);
    }

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

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    const t = this.timesteps[stepIndex];
    if (t === undefined) throw new Error(`DDIM.addNoise: step index ${stepIndex} out of range`);
    return addNoiseAlphaCumprod(original, noise, this.schedule.alphasCumprod[t]!);
  }
}
