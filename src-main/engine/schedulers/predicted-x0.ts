// The model's estimate of the clean sample (diffusers' `pred_original_sample` / `x0_pred`) from its output, for
// each prediction_type, in the two parameterisations the schedulers use. Every op is rounded as torch does it.

import type { PredictionType } from './config.js';
import { sqrt32 } from './numerics/float32.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

/**
 * Variance-preserving form `x_t = alpha_t * x0 + sigma_t * eps` (DDPM, DDIM, LCM with alpha_t = sqrt(ac),
 * sigma_t = sqrt(1 - ac); DPM-Solver++ and UniPC with `alphaSigmaT(sigma)`): epsilon `(x - sigma_t*eps) / alpha_t`,
 * v `alpha_t*x - sigma_t*v`, sample as is. A new array.
 */
export function x0FromAlphaSigma(
  prediction: PredictionType,
  alphaT: number,
  sigmaT: number,
  modelOutput: Float32Array,
  sample: Float32Array,
): Float32Array {
  const n = sample.length;
  const x0 = new Float32Array(n);
  if (prediction === 'epsilon') {
    for (let i = 0; i < n; i++) x0[i] = f32(sample[i]! - f32(sigmaT * modelOutput[i]!)) / alphaT;
  } else if (prediction === 'v_prediction') {
    for (let i = 0; i < n; i++) x0[i] = f32(alphaT * sample[i]!) - f32(sigmaT * modelOutput[i]!);
  } else {
    x0.set(modelOutput);
  }
  return x0;
}

/**
 * Sigma-space form `x = x0 + sigma * eps` of the Euler-type schedulers (Euler, Euler ancestral, Heun, LMS):
 * epsilon `x - sigma*eps`, v `v * (-sigma / sqrt(sigma^2 + 1)) + x / (sigma^2 + 1)`, sample as is. A new array.
 */
export function x0FromSigma(prediction: PredictionType, sigma: number, modelOutput: Float32Array, sample: Float32Array): Float32Array {
  const n = sample.length;
  const x0 = new Float32Array(n);
  if (prediction === 'epsilon') {
    for (let i = 0; i < n; i++) x0[i] = sample[i]! - f32(sigma * modelOutput[i]!);
  } else if (prediction === 'v_prediction') {
    const s2p1 = f32(f32(sigma * sigma) + 1);
    const c = f32(-sigma / sqrt32(s2p1));
    for (let i = 0; i < n; i++) x0[i] = f32(modelOutput[i]! * c) + f32(sample[i]! / s2p1);
  } else {
    x0.set(modelOutput);
  }
  return x0;
}

/** diffusers' `clip_sample`: clamps `x0` to [-range, range] in place (`range` float32). */
export function clipSampleInPlace(x0: Float32Array, range: number): void {
  for (let i = 0; i < x0.length; i++) x0[i] = Math.min(Math.max(x0[i]!, -range), range);
}
