// EulerDiscreteScheduler (diffusers v0.40.0 scheduling_euler_discrete.py), float32 op for op.
// Supports interpolation_type "linear", use_karras_sigmas, use_exponential_sigmas, final_sigmas_type
// zero/sigma_min, timestep_type discrete/continuous. s_churn is 0 (the pipelines' default): no noise is drawn.

import {
  addNoiseSigma,
  assertSameLength,
  cfgBool,
  cfgNumber,
  cfgString,
  eulerInitNoiseSigma,
  f32,
  sqrt32,
  floatTimesteps,
  getNoiseSchedule,
  indexForTimestep,
  interpSigmas,
  karrasSigmas,
  npLinspace,
  predictionTypeOf,
  resolveConfig,
  sigmaToT,
  timestepSpacingOf,
  type NoiseSchedule,
  type PredictionType,
  type TimestepSpacing,
} from './common.js';
import type { Scheduler, SchedulerConfig, StepOptions, StepResult } from './types.js';

/** diffusers EulerDiscreteScheduler.__init__ defaults. */
export const EULER_DEFAULTS: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  interpolation_type: 'linear',
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  sigma_min: null,
  sigma_max: null,
  timestep_spacing: 'linspace',
  timestep_type: 'discrete',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
  final_sigmas_type: 'zero',
});

export class EulerDiscreteScheduler implements Scheduler {
  readonly name = 'euler' as const;
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
    this.config = Object.freeze(resolveConfig(EULER_DEFAULTS, config));
    const c = this.config;
    const flags = [cfgBool(c, 'use_karras_sigmas', false), cfgBool(c, 'use_exponential_sigmas', false), cfgBool(c, 'use_beta_sigmas', false)];
    if (flags.filter(Boolean).length > 1) {
      throw new Error('Only one of `config.use_beta_sigmas`, `config.use_exponential_sigmas`, `config.use_karras_sigmas` can be used.');
    }
    if (cfgBool(c, 'use_beta_sigmas', false)) throw new Error('Euler: use_beta_sigmas is not supported');
    if (cfgString(c, 'interpolation_type', 'linear') !== 'linear') {
      throw new Error(`Euler: interpolation_type ${String(c['interpolation_type'])} is not supported (only "linear")`);
    }
    this.schedule = getNoiseSchedule(c, true);
    this.prediction = predictionTypeOf(c, ['epsilon', 'v_prediction', 'sample']);
    this.spacing = timestepSpacingOf(c, 'linspace');
    // Before set_timesteps diffusers holds the full training schedule; init_noise_sigma follows it.
    const full = Array.from(this.schedule.sigmaTable).reverse();
    full.push(0);
    this.initNoiseSigma = eulerInitNoiseSigma(full, this.spacing);
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    const T = this.schedule.numTrainTimesteps;
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) throw new Error(`invalid numInferenceSteps ${numInferenceSteps}`);
    let timesteps = floatTimesteps(this.spacing, numInferenceSteps, T, cfgNumber(c, 'steps_offset', 0));
    let sigmas = interpSigmas(timesteps, this.schedule);
    const logSigmas = this.schedule.logSigmaTable;
    const sigmaMinCfg = c['sigma_min'];
    const sigmaMaxCfg = c['sigma_max'];
    const sMin = (): number => (typeof sigmaMinCfg === 'number' ? sigmaMinCfg : sigmas[sigmas.length - 1]!);
    const sMax = (): number => (typeof sigmaMaxCfg === 'number' ? sigmaMaxCfg : sigmas[0]!);
    if (cfgBool(c, 'use_karras_sigmas', false)) {
      sigmas = karrasSigmas(sMin(), sMax(), numInferenceSteps);
      timesteps = sigmas.map((s) => f32(sigmaToT(s, logSigmas)));
    } else if (cfgBool(c, 'use_exponential_sigmas', false)) {
      const lo = Math.log(sMin());
      const hi = Math.log(sMax());
      sigmas = npLinspace(hi, lo, numInferenceSteps).map(Math.exp);
      timesteps = sigmas.map((s) => f32(sigmaToT(s, logSigmas)));
    }
    const finalType = cfgString(c, 'final_sigmas_type', 'zero');
    let sigmaLast: number;
    if (finalType === 'sigma_min') sigmaLast = this.schedule.sigmaTable[0]!;
    else if (finalType === 'zero') sigmaLast = 0;
    else throw new Error(`\`final_sigmas_type\` must be one of 'zero', or 'sigma_min', but got ${finalType}`);
    this.sigmas = [...sigmas, sigmaLast].map(f32);
    if (cfgString(c, 'timestep_type', 'discrete') === 'continuous' && this.prediction === 'v_prediction') {
      this.timesteps = this.sigmas.slice(0, -1).map((s) => f32(0.25 * f32(Math.log(s))));
    } else {
      this.timesteps = timesteps.map(f32);
    }
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

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _options: StepOptions = {}): StepResult {
    assertSameLength(modelOutput, sample, 'Euler.step');
    if (this.sigmas.length === 0) throw new Error("Euler: run 'setTimesteps' before 'step'");
    const idx = this.stepIndex ?? this.initStepIndex(timestep);
    const sigma = this.sigmas[idx]!;
    const sigmaNext = this.sigmas[idx + 1];
    if (sigmaNext === undefined) throw new Error('Euler: step called past the end of the schedule');
    const sigmaHat = sigma; // gamma = 0 (s_churn = 0)
    const n = sample.length;
    const x0 = new Float32Array(n);
    if (this.prediction === 'epsilon') {
      for (let i = 0; i < n; i++) x0[i] = sample[i]! - f32(sigmaHat * modelOutput[i]!);
    } else if (this.prediction === 'v_prediction') {
      const s2p1 = f32(f32(sigma * sigma) + 1);
      const c = f32(-sigma / sqrt32(s2p1));
      for (let i = 0; i < n; i++) x0[i] = f32(modelOutput[i]! * c) + f32(sample[i]! / s2p1);
    } else {
      x0.set(modelOutput);
    }
    const dt = f32(sigmaNext - sigmaHat);
    const prev = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const derivative = f32(f32(sample[i]! - x0[i]!) / sigmaHat);
      prev[i] = sample[i]! + f32(derivative * dt);
    }
    this.stepIndex = idx + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    const sigma = this.sigmas[stepIndex];
    if (sigma === undefined) throw new Error(`Euler.addNoise: step index ${stepIndex} out of range`);
    return addNoiseSigma(original, noise, sigma);
  }
}
