// LMSDiscreteScheduler (diffusers v0.40.0 scheduling_lms_discrete.py), float32 op for op.
//
// Linear multistep in sigma space, order up to 4 (warming up as min(step_index + 1, 4)). Each coefficient is the
// integral of a Lagrange basis polynomial over [sigma_i, sigma_{i+1}]; diffusers gets it from
// scipy.integrate.quad with a float32 integrand. We run a port of quad's QUADPACK routine (dqagse: 21-point
// Gauss-Kronrod, adaptive bisection with extrapolation) on the same float32 integrand (see `lmsCoefficient`), so
// the coefficients are scipy's to the last bit. An exact integral of the Lagrange polynomial would differ from
// them by ~1e-7 relative (the float32 noise of the integrand), and by ~2e-6 where quad subdivides (500+ steps).
// Supports prediction_type epsilon / v_prediction / sample, timestep_spacing leading / trailing / linspace,
// use_karras_sigmas and use_exponential_sigmas (use_beta_sigmas is rejected).

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
import { exponentialSigmas, lmsCoefficient, sqrtF32 } from './multistep-common.js';
import type { Scheduler, SchedulerConfig, StepOptions, StepResult } from './types.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

/** diffusers LMSDiscreteScheduler.__init__ defaults. */
export const LMS_DEFAULTS: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  prediction_type: 'epsilon',
  timestep_spacing: 'linspace',
  steps_offset: 0,
});

/** diffusers' default `order` argument of LMSDiscreteScheduler.step. */
const LMS_MAX_ORDER = 4;

export class LMSDiscreteScheduler implements Scheduler {
  readonly name = 'lms' as const;
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
  /** The last (up to 4) derivatives, oldest first. */
  private derivatives: Float32Array[] = [];

  constructor(config?: SchedulerConfig) {
    this.config = Object.freeze(resolveConfig(LMS_DEFAULTS, config));
    const c = this.config;
    const flags = [cfgBool(c, 'use_karras_sigmas', false), cfgBool(c, 'use_exponential_sigmas', false), cfgBool(c, 'use_beta_sigmas', false)];
    if (flags.filter(Boolean).length > 1) {
      throw new Error('Only one of `config.use_beta_sigmas`, `config.use_exponential_sigmas`, `config.use_karras_sigmas` can be used.');
    }
    if (cfgBool(c, 'use_beta_sigmas', false)) throw new Error('LMS: use_beta_sigmas is not supported');
    // This class has no rescale_betas_zero_snr (diffusers' from_config drops the key), so never rescale.
    this.schedule = getNoiseSchedule({ ...c, rescale_betas_zero_snr: false });
    this.prediction = predictionTypeOf(c, ['epsilon', 'v_prediction', 'sample']);
    this.spacing = timestepSpacingOf(c, 'linspace');
    this.setTimesteps(this.schedule.numTrainTimesteps);
  }

  setTimesteps(numInferenceSteps: number): void {
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) throw new Error(`LMS: invalid numInferenceSteps ${numInferenceSteps}`);
    const c = this.config;
    const T = this.schedule.numTrainTimesteps;
    let timesteps = floatTimesteps(this.spacing, numInferenceSteps, T, cfgNumber(c, 'steps_offset', 0));
    let sigmas = interpSigmas(timesteps, this.schedule);
    if (cfgBool(c, 'use_karras_sigmas', false)) {
      sigmas = karrasSigmas(sigmas[sigmas.length - 1]!, sigmas[0]!, numInferenceSteps);
      timesteps = sigmas.map((s) => sigmaToT(s, this.schedule.logSigmaTable));
    } else if (cfgBool(c, 'use_exponential_sigmas', false)) {
      sigmas = exponentialSigmas(sigmas[sigmas.length - 1]!, sigmas[0]!, numInferenceSteps);
      timesteps = sigmas.map((s) => sigmaToT(s, this.schedule.logSigmaTable));
    }
    this.sigmas = [...sigmas, 0].map(f32);
    this.timesteps = timesteps.map(f32);
    let max = -Infinity;
    for (const s of this.sigmas) if (s > max) max = s;
    this.initNoiseSigma = this.spacing === 'leading' ? sqrtF32(f32(f32(max * max) + 1)) : max;
    this.stepIndex = null;
    this.beginIndex = null;
    this.derivatives = [];
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

  /** diffusers `get_lms_coefficient(order, t, current_order)` (scipy quad, reproduced). */
  lmsCoefficient(order: number, t: number, currentOrder: number): number {
    return lmsCoefficient(this.sigmas, order, t, currentOrder);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _options: StepOptions = {}): StepResult {
    assertSameLength(modelOutput, sample, 'LMS.step');
    const idx = this.stepIndex ?? this.initStepIndex(timestep);
    if (idx >= this.timesteps.length) throw new Error('LMS: step called past the end of the schedule');
    const sigma = this.sigmas[idx]!;
    const n = sample.length;

    const x0 = new Float32Array(n);
    if (this.prediction === 'epsilon') {
      for (let i = 0; i < n; i++) x0[i] = sample[i]! - f32(sigma * modelOutput[i]!);
    } else if (this.prediction === 'v_prediction') {
      const s2p1 = f32(f32(sigma * sigma) + 1);
      const c = f32(-sigma / sqrtF32(s2p1));
      for (let i = 0; i < n; i++) x0[i] = f32(modelOutput[i]! * c) + f32(sample[i]! / s2p1);
    } else {
      x0.set(modelOutput);
    }

    // Reuse the buffer of the derivative that falls out of the window.
    const derivative = this.derivatives.length >= LMS_MAX_ORDER && this.derivatives[0]!.length === n ? this.derivatives.shift()! : new Float32Array(n);
    for (let i = 0; i < n; i++) derivative[i] = f32(sample[i]! - x0[i]!) / sigma;
    this.derivatives.push(derivative);
    if (this.derivatives.length > LMS_MAX_ORDER) this.derivatives.shift();

    const order = Math.min(idx + 1, LMS_MAX_ORDER);
    // zip(coeffs, reversed(derivatives)): the newest derivative takes coefficient 0. After set_begin_index the
    // window can hold fewer derivatives than `order`; zip then stops early, as in diffusers.
    const terms = Math.min(order, this.derivatives.length);
    const coeffs: number[] = [];
    const ders: Float32Array[] = [];
    for (let k = 0; k < terms; k++) {
      coeffs.push(f32(lmsCoefficient(this.sigmas, order, idx, k)));
      ders.push(this.derivatives[this.derivatives.length - 1 - k]!);
    }
    const prev = new Float32Array(n);
    // sum(coeff * derivative): python's sum starts from 0 (0 + t0 = t0), then adds left to right in float32.
    const c0 = coeffs[0]!;
    const d0 = ders[0]!;
    if (terms === 1) {
      for (let i = 0; i < n; i++) prev[i] = sample[i]! + f32(c0 * d0[i]!);
    } else if (terms === 2) {
      const c1 = coeffs[1]!;
      const d1 = ders[1]!;
      for (let i = 0; i < n; i++) prev[i] = sample[i]! + f32(f32(c0 * d0[i]!) + f32(c1 * d1[i]!));
    } else if (terms === 3) {
      const c1 = coeffs[1]!;
      const d1 = ders[1]!;
      const c2 = coeffs[2]!;
      const d2 = ders[2]!;
      for (let i = 0; i < n; i++) prev[i] = sample[i]! + f32(f32(f32(c0 * d0[i]!) + f32(c1 * d1[i]!)) + f32(c2 * d2[i]!));
    } else {
      const c1 = coeffs[1]!;
      const d1 = ders[1]!;
      const c2 = coeffs[2]!;
      const d2 = ders[2]!;
      const c3 = coeffs[3]!;
      const d3 = ders[3]!;
      for (let i = 0; i < n; i++) {
        prev[i] = sample[i]! + f32(f32(f32(f32(c0 * d0[i]!) + f32(c1 * d1[i]!)) + f32(c2 * d2[i]!)) + f32(c3 * d3[i]!));
      }
    }
    this.stepIndex = idx + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    const sigma = this.sigmas[stepIndex];
    if (sigma === undefined) throw new Error(`LMS.addNoise: step index ${stepIndex} out of range`);
    return addNoiseSigma(original, noise, sigma);
  }
}
