// HeunDiscreteScheduler (diffusers v0.40.0 scheduling_heun_discrete.py), float32 op for op.
//
// Heun's 2nd-order method in sigma space. `setTimesteps(N)` gives 2N-1 model calls: timesteps
// [t0, t1, t1, t2, t2, ...] and sigmas [s0, s1, s1, ..., s_{N-1}, s_{N-1}, 0]. Each pair is an Euler predictor
// (first call, stores derivative/dt/sample) and a trapezoidal corrector (second call, scaled with the next sigma).
// The last call is a plain Euler step to sigma 0 (its stored derivative is never used).
// Supports prediction_type epsilon / v_prediction / sample, clip_sample, timestep_spacing
// leading / trailing / linspace, use_karras_sigmas and use_exponential_sigmas (use_beta_sigmas needs scipy's
// beta ppf and is rejected).

import {
  addNoiseSigma,
  assertSameLength,
  cfgBool,
  cfgNumber,
  floatTimesteps,
  getNoiseSchedule,
  indexForTimestep,
  interpSigmas,
  karrasSigmas,
  predictionTypeOf,
  resolveConfig,
  sigmaToT,
  timestepSpacingOf,
  type NoiseSchedule,
  type PredictionType,
  type TimestepSpacing,
} from './common.js';
import { exponentialSigmas, sqrtF32 } from './multistep-common.js';
import type { Scheduler, SchedulerConfig, StepOptions, StepResult } from './types.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

/** diffusers HeunDiscreteScheduler.__init__ defaults. */
export const HEUN_DEFAULTS: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  clip_sample: false,
  clip_sample_range: 1.0,
  timestep_spacing: 'linspace',
  steps_offset: 0,
});

export class HeunDiscreteScheduler implements Scheduler {
  readonly name = 'heun' as const;
  readonly config: Readonly<SchedulerConfig>;
  readonly order = 2;
  timesteps: number[] = [];
  sigmas: number[] = [];
  initNoiseSigma = 1.0;

  private readonly schedule: NoiseSchedule;
  private readonly prediction: PredictionType;
  private readonly spacing: TimestepSpacing;
  private readonly clip: number | null;
  private stepIndex: number | null = null;
  private beginIndex: number | null = null;
  // Predictor state (diffusers' prev_derivative / dt / sample); dt === null means "first order next".
  private dt: number | null = null;
  private prevDerivative: Float32Array = new Float32Array(0);
  private prevSample: Float32Array = new Float32Array(0);

  constructor(config?: SchedulerConfig) {
    this.config = Object.freeze(resolveConfig(HEUN_DEFAULTS, config));
    const c = this.config;
    const flags = [cfgBool(c, 'use_karras_sigmas', false), cfgBool(c, 'use_exponential_sigmas', false), cfgBool(c, 'use_beta_sigmas', false)];
    if (flags.filter(Boolean).length > 1) {
      throw new Error('Only one of `config.use_beta_sigmas`, `config.use_exponential_sigmas`, `config.use_karras_sigmas` can be used.');
    }
    if (cfgBool(c, 'use_beta_sigmas', false)) throw new Error('Heun: use_beta_sigmas is not supported');
    // This class has no rescale_betas_zero_snr (diffusers' from_config drops the key), so never rescale.
    this.schedule = getNoiseSchedule({ ...c, rescale_betas_zero_snr: false });
    this.prediction = predictionTypeOf(c, ['epsilon', 'v_prediction', 'sample']);
    this.spacing = timestepSpacingOf(c, 'linspace');
    this.clip = cfgBool(c, 'clip_sample', false) ? f32(cfgNumber(c, 'clip_sample_range', 1.0)) : null;
    // diffusers' __init__ runs set_timesteps(num_train_timesteps).
    this.setTimesteps(this.schedule.numTrainTimesteps);
  }

  setTimesteps(numInferenceSteps: number): void {
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) throw new Error(`Heun: invalid numInferenceSteps ${numInferenceSteps}`);
    const c = this.config;
    const T = this.schedule.numTrainTimesteps;
    let timesteps = floatTimesteps(this.spacing, numInferenceSteps, T, cfgNumber(c, 'steps_offset', 0));
    let sigmas = interpSigmas(timesteps, this.schedule);
    if (cfgBool(c, 'use_karras_sigmas', false)) {
      // The spacing-selected range: sigma_max = sigmas[0], sigma_min = sigmas[-1] (no config override in Heun).
      sigmas = karrasSigmas(sigmas[sigmas.length - 1]!, sigmas[0]!, numInferenceSteps);
      timesteps = sigmas.map((s) => sigmaToT(s, this.schedule.logSigmaTable));
    } else if (cfgBool(c, 'use_exponential_sigmas', false)) {
      sigmas = exponentialSigmas(sigmas[sigmas.length - 1]!, sigmas[0]!, numInferenceSteps);
      timesteps = sigmas.map((s) => sigmaToT(s, this.schedule.logSigmaTable));
    }
    const s32 = [...sigmas, 0].map(f32);
    // sigmas: [s0, s1, s1, ..., s_{N-1}, s_{N-1}, 0]; timesteps: [t0, t1, t1, ..., t_{N-1}, t_{N-1}].
    const dupS: number[] = [s32[0]!];
    for (let i = 1; i < s32.length - 1; i++) dupS.push(s32[i]!, s32[i]!);
    dupS.push(s32[s32.length - 1]!);
    const t32 = timesteps.map(f32);
    const dupT: number[] = [t32[0]!];
    for (let i = 1; i < t32.length; i++) dupT.push(t32[i]!, t32[i]!);
    this.sigmas = dupS;
    this.timesteps = dupT;
    let max = -Infinity;
    for (const s of dupS) if (s > max) max = s;
    this.initNoiseSigma = this.spacing === 'leading' ? sqrtF32(f32(f32(max * max) + 1)) : max;
    this.dt = null;
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
    const denom = sqrtF32(f32(f32(sigma * sigma) + 1));
    const out = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) out[i] = sample[i]! / denom;
    return out;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _options: StepOptions = {}): StepResult {
    assertSameLength(modelOutput, sample, 'Heun.step');
    const idx = this.stepIndex ?? this.initStepIndex(timestep);
    if (idx >= this.timesteps.length) throw new Error('Heun: step called past the end of the schedule');
    const firstOrder = this.dt === null;
    const sigma = firstOrder ? this.sigmas[idx]! : this.sigmas[idx - 1]!;
    const sigmaNext = firstOrder ? this.sigmas[idx + 1]! : this.sigmas[idx]!;
    const sigmaHat = sigma; // gamma = 0
    const sigmaInput = firstOrder ? sigmaHat : sigmaNext;
    const n = sample.length;

    const x0 = new Float32Array(n);
    if (this.prediction === 'epsilon') {
      for (let i = 0; i < n; i++) x0[i] = sample[i]! - f32(sigmaInput * modelOutput[i]!);
    } else if (this.prediction === 'v_prediction') {
      const s2p1 = f32(f32(sigmaInput * sigmaInput) + 1);
      const c = f32(-sigmaInput / sqrtF32(s2p1));
      for (let i = 0; i < n; i++) x0[i] = f32(modelOutput[i]! * c) + f32(sample[i]! / s2p1);
    } else {
      x0.set(modelOutput);
    }
    if (this.clip !== null) {
      const r = this.clip;
      for (let i = 0; i < n; i++) x0[i] = Math.min(Math.max(x0[i]!, -r), r);
    }

    const prev = new Float32Array(n);
    if (firstOrder) {
      const dt = f32(sigmaNext - sigmaHat);
      if (this.prevDerivative.length !== n) {
        this.prevDerivative = new Float32Array(n);
        this.prevSample = new Float32Array(n);
      }
      const d = this.prevDerivative;
      for (let i = 0; i < n; i++) {
        const der = f32(f32(sample[i]! - x0[i]!) / sigmaHat);
        d[i] = der;
        prev[i] = sample[i]! + f32(der * dt);
      }
      this.prevSample.set(sample);
      this.dt = dt;
    } else {
      const dt = this.dt!;
      const d = this.prevDerivative;
      const s0 = this.prevSample;
      for (let i = 0; i < n; i++) {
        const der2 = f32(f32(sample[i]! - x0[i]!) / sigmaNext);
        const der = f32(f32(d[i]! + der2) / 2);
        prev[i] = s0[i]! + f32(der * dt);
      }
      this.dt = null;
    }
    this.stepIndex = idx + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    const sigma = this.sigmas[stepIndex];
    if (sigma === undefined) throw new Error(`Heun.addNoise: step index ${stepIndex} out of range`);
    return addNoiseSigma(original, noise, sigma);
  }
}
