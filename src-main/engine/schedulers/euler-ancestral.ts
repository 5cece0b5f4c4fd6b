// EulerAncestralDiscreteScheduler (diffusers v0.40.0 scheduling_euler_ancestral_discrete.py), float32 op for op.
// Draws one randn per step (the last included, where sigma_up = 0).

import {
  addNoiseSigma,
  assertSameLength,
  cfgNumber,
  drawNoise,
  eulerInitNoiseSigma,
  f32,
  sqrt32,
  floatTimesteps,
  getNoiseSchedule,
  indexForTimestep,
  interpSigmas,
  predictionTypeOf,
  resolveConfig,
  timestepSpacingOf,
  type NoiseSchedule,
  type PredictionType,
  type TimestepSpacing,
} from './common.js';
import type { Scheduler, SchedulerConfig, StepOptions, StepResult } from './types.js';

/** diffusers EulerAncestralDiscreteScheduler.__init__ defaults. */
export const EULER_ANCESTRAL_DEFAULTS: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  timestep_spacing: 'linspace',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
});

export class EulerAncestralDiscreteScheduler implements Scheduler {
  readonly name = 'euler-ancestral' as const;
  readonly config: Readonly<SchedulerConfig>;
  readonly order = 1;
  timesteps: number[] = [];
  sigmas: number[] = [];
  initNoiseSigma = 1.0;

  private readonly schedule: NoiseSchedule;
  private readonly prediction: PredictionType;
  private readonly spacing: TimestepSpacing;
  private stepIndex: number | null = null;
  private beginIndex: number | null = null;

  constructor(config?: SchedulerConfig) {
    this.config = Object.freeze(resolveConfig(EULER_ANCESTRAL_DEFAULTS, config));
    this.schedule = getNoiseSchedule(this.config, true);
    this.prediction = predictionTypeOf(this.config, ['epsilon', 'v_prediction']);
    this.spacing = timestepSpacingOf(this.config, 'linspace');
    const full = Array.from(this.schedule.sigmaTable).reverse();
    full.push(0);
    this.initNoiseSigma = eulerInitNoiseSigma(full, this.spacing);
  }

  setTimesteps(numInferenceSteps: number): void {
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) throw new Error(`invalid numInferenceSteps ${numInferenceSteps}`);
    const T = this.schedule.numTrainTimesteps;
    const timesteps = floatTimesteps(this.spacing, numInferenceSteps, T, cfgNumber(this.config, 'steps_offset', 0));
    this.sigmas = [...interpSigmas(timesteps, this.schedule), 0].map(f32);
    this.timesteps = timesteps;
    this.initNoiseSigma = eulerInitNoiseSigma(this.sigmas, this.spacing);
    this.stepIndex = null;
    this.beginIndex = null;
  }

  setBeginIndex(beginIndex: number): void {
    this.beginIndex = beginIndex;
  }

  private initStepIndex(timestep: number): number {
    this.stepIndex = this.beginIndex ?? indexForTimestep(this.timesteps, f32(timestep));
    return this.stepIndex;
  }

  scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    const idx = this.stepIndex ?? this.initStepIndex(timestep);
    const sigma = this.sigmas[idx]!;
    const denom = sqrt32(f32(f32(sigma * sigma) + 1));
    const out = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) out[i] = sample[i]! / denom;
    return out;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options: StepOptions = {}): StepResult {
    assertSameLength(modelOutput, sample, 'EulerAncestral.step');
    if (this.sigmas.length === 0) throw new Error("EulerAncestral: run 'setTimesteps' before 'step'");
    const idx = this.stepIndex ?? this.initStepIndex(timestep);
    const sigma = this.sigmas[idx]!;
    const sigmaTo = this.sigmas[idx + 1];
    if (sigmaTo === undefined) throw new Error('EulerAncestral: step called past the end of the schedule');
    const n = sample.length;
    const x0 = new Float32Array(n);
    if (this.prediction === 'epsilon') {
      for (let i = 0; i < n; i++) x0[i] = sample[i]! - f32(sigma * modelOutput[i]!);
    } else {
      const s2p1 = f32(f32(sigma * sigma) + 1);
      const c = f32(-sigma / sqrt32(s2p1));
      for (let i = 0; i < n; i++) x0[i] = f32(modelOutput[i]! * c) + f32(sample[i]! / s2p1);
    }
    const from2 = f32(sigma * sigma);
    const to2 = f32(sigmaTo * sigmaTo);
    const sigmaUp = sqrt32(f32(f32(to2 * f32(from2 - to2)) / from2));
    const sigmaDown = sqrt32(f32(to2 - f32(sigmaUp * sigmaUp)));
    const dt = f32(sigmaDown - sigma);
    const noise = drawNoise(options.generator, sample, 'EulerAncestral.step');
    const prev = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const derivative = f32(f32(sample[i]! - x0[i]!) / sigma);
      const p = f32(sample[i]! + f32(derivative * dt));
      prev[i] = p + f32(noise[i]! * sigmaUp);
    }
    this.stepIndex = idx + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    const sigma = this.sigmas[stepIndex];
    if (sigma === undefined) throw new Error(`EulerAncestral.addNoise: step index ${stepIndex} out of range`);
    return addNoiseSigma(original, noise, sigma);
  }
}
