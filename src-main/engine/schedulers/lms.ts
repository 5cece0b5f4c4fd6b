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

import { assertOneSigmaSpacing, assertStepCount, cfgBool } from './config.js';
import { quadpackQagse } from './numerics/quadpack.js';
import { x0FromSigma } from './predicted-x0.js';
import { EulerTypeScheduler } from './sigma-scheduler.js';
import { eulerInitNoiseSigma } from './sigmas.js';
import type { SchedulerConfig, StepOptions, StepResult } from './types.js';

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

export class LMSDiscreteScheduler extends EulerTypeScheduler {
  readonly name = 'lms' as const;
  readonly order = 1;

  /** The last (up to 4) derivatives, oldest first. */
  private derivatives: Float32Array[] = [];

  constructor(config?: SchedulerConfig) {
    super({ who: 'LMS', defaults: LMS_DEFAULTS, config, predictions: ['epsilon', 'v_prediction', 'sample'], zeroSnrOption: false });
    const c = this.config;
    assertOneSigmaSpacing(c);
    if (cfgBool(c, 'use_beta_sigmas', false)) throw new Error('LMS: use_beta_sigmas is not supported');
    this.setTimesteps(this.schedule.numTrainTimesteps);
  }

  setTimesteps(numInferenceSteps: number): void {
    assertStepCount(numInferenceSteps, 'LMS');
    // LMS has no sigma_min / sigma_max config: Karras / exponential sigmas span the spacing's range.
    const { timesteps, sigmas } = this.spacedSigmas(numInferenceSteps, false);
    this.sigmas = [...sigmas, 0].map(f32);
    this.timesteps = timesteps.map(f32);
    this.initNoiseSigma = eulerInitNoiseSigma(this.sigmas, this.spacing);
    this.resetStepIndex();
    this.derivatives = [];
  }

  /** diffusers `get_lms_coefficient(order, t, current_order)` (scipy quad, reproduced). */
  lmsCoefficient(order: number, t: number, currentOrder: number): number {
    return lmsCoefficient(this.sigmas, order, t, currentOrder);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _options: StepOptions = {}): StepResult {
    const idx = this.beginStep(modelOutput, timestep, sample);
    const sigma = this.sigmas[idx]!;
    const n = sample.length;

    const x0 = x0FromSigma(this.prediction, sigma, modelOutput, sample);

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
}

/**
 * `LMSDiscreteScheduler.get_lms_coefficient(order, t, current_order)`: the integral over [sigmas[t], sigmas[t+1]]
 * of the Lagrange basis polynomial of node `sigmas[t - current_order]` on the nodes `sigmas[t - k]`, k < order.
 * The integrand is evaluated as diffusers does, with float32 torch scalars: `tau` is rounded to float32 and
 * every factor `(tau - s_k) / (s_c - s_k)` and the running product are float32. The integral itself is
 * scipy's (QUADPACK dqagse, ported), so the coefficient matches scipy.integrate.quad bit for bit, including the rare
 * intervals (only at ~500+ steps) where quad's error test fails on the float32 noise and it subdivides.
 */
export function lmsCoefficient(sigmas: ArrayLike<number>, order: number, t: number, currentOrder: number): number {
  const sc = f32(sigmas[t - currentOrder]!);
  const nodes: number[] = [];
  for (let k = 0; k < order; k++) if (k !== currentOrder) nodes.push(f32(sigmas[t - k]!));
  const dens = nodes.map((sk) => f32(sc - sk));
  const integrand = (tau: number): number => {
    if (nodes.length === 0) return 1.0;
    const tau32 = f32(tau);
    let prod = f32(f32(tau32 - nodes[0]!) / dens[0]!);
    for (let k = 1; k < nodes.length; k++) prod = f32(prod * f32(f32(tau32 - nodes[k]!) / dens[k]!));
    return prod;
  };
  const a = f32(sigmas[t]!);
  const b = f32(sigmas[t + 1]!);
  return quadpackQagse(integrand, a, b, 1.49e-8, 1e-4).result;
}
