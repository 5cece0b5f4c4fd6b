// Sigma schedules and conversions of diffusers' sigma-space schedulers: Karras / exponential spacings, sigma to
// timestep (`_sigma_to_t`), interpolation from the training table, and the VP form alpha_t / sigma_t / lambda.

import type { SchedulerConfig } from './types.js';
import type { TimestepSpacing } from './config.js';
import type { NoiseSchedule } from './noise-schedule.js';
import { f32, sqrt32 } from './numerics/float32.js';
import { interp, npLinspace } from './numerics/numpy.js';
import { logF32 } from './numerics/sleef.js';

/**
 * Karras et al. sigmas, float64 as diffusers `_convert_to_karras`: `ramp = linspace(0, 1, N)`,
 * `(max^(1/rho) + ramp*(min^(1/rho) - max^(1/rho)))^rho`. Pass `config.sigma_min/max` when set, else the
 * last/first of the input sigmas.
 */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number, rho = 7.0): number[] {
  const ramp = npLinspace(0, 1, n);
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return ramp.map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

/**
 * diffusers `_sigma_to_t(sigma, log_sigmas)` for one float64 sigma, with numpy 1.24's dtype rules: log_sigmas
 * are float32, so the comparison and the weight `w` are float32; the result `(1-w)*low + w*high` is float64
 * (not rounded). Euler stores it as float32; DPM-Solver rounds it (half-even) to an int.
 */
export function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  const ls32 = f32(logSigma);
  const n = logSigmas.length;
  let last = -1;
  for (let i = 0; i < n; i++) if (ls32 - logSigmas[i]! >= 0) last = i;
  let lowIdx = last < 0 ? 0 : last;
  if (lowIdx > n - 2) lowIdx = n - 2;
  const highIdx = lowIdx + 1;
  const low = logSigmas[lowIdx]!;
  const high = logSigmas[highIdx]!;
  let w = f32(f32(low - ls32) / f32(low - high));
  if (w < 0) w = 0;
  else if (w > 1) w = 1;
  return f32(1 - w) * lowIdx + w * highIdx;
}

/**
 * Euler-type sigmas for `timesteps` (float32 values): `np.interp(t, arange(T), sigmaTable)` in float64
 * (the table reversed is diffusers' `sigmas`; interpolating by training timestep is the same thing).
 */
export function interpSigmas(timesteps: ArrayLike<number>, schedule: NoiseSchedule): number[] {
  return interp(timesteps, schedule.trainSteps, schedule.sigmaTable);
}

/** Euler-type `init_noise_sigma`: `max(sigmas)` for linspace/trailing, `sqrt(max^2 + 1)` for leading (float32). */
export function eulerInitNoiseSigma(sigmas: ArrayLike<number>, spacing: TimestepSpacing): number {
  let m = -Infinity;
  for (let i = 0; i < sigmas.length; i++) if (sigmas[i]! > m) m = sigmas[i]!;
  if (spacing === 'linspace' || spacing === 'trailing') return m;
  return sqrt32(f32(f32(m * m) + 1));
}

/** `sigma_min` / `sigma_max` from the config if numbers, else the given fallbacks (diffusers' `_convert_to_*`). */
export function sigmaRange(config: SchedulerConfig, fallbackMin: number, fallbackMax: number): [min: number, max: number] {
  const lo = config['sigma_min'];
  const hi = config['sigma_max'];
  return [typeof lo === 'number' ? lo : fallbackMin, typeof hi === 'number' ? hi : fallbackMax];
}

/** `np.exp(np.linspace(log(sigma_max), log(sigma_min), n))` (diffusers `_convert_to_exponential`). */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, n: number): number[] {
  return npLinspace(Math.log(sigmaMax), Math.log(sigmaMin), n).map(Math.exp);
}

/**
 * The sigma conversions of DPM-Solver / UniPC over the **full training range** (`np.flip(sigmas)`: max is
 * sigmaTable[T-1], min sigmaTable[0]) and their float64 timesteps from `_sigma_to_t` (not yet rounded).
 */
export function fullRangeSigmas(
  kind: 'karras' | 'exponential',
  schedule: NoiseSchedule,
  n: number,
  config: SchedulerConfig,
): { sigmas: number[]; timesteps: number[] } {
  const table = schedule.sigmaTable;
  const [lo, hi] = sigmaRange(config, table[0]!, table[table.length - 1]!);
  const sigmas = kind === 'karras' ? karrasSigmas(lo, hi, n) : exponentialSigmas(lo, hi, n);
  const timesteps = sigmas.map((s) => sigmaToT(s, schedule.logSigmaTable));
  return { sigmas, timesteps };
}

/**
 * diffusers `_sigma_to_alpha_sigma_t` for a float32 sigma: `alpha_t = 1 / (sigma**2 + 1) ** 0.5`,
 * `sigma_t = sigma * alpha_t`, all float32. sigma = 0 gives (1, 0).
 */
export function alphaSigmaT(sigma: number): [alphaT: number, sigmaT: number] {
  const alpha = f32(1 / sqrt32(f32(f32(sigma * sigma) + 1)));
  return [alpha, f32(sigma * alpha)];
}

/** `lambda = log(alpha_t) - log(sigma_t)` in float32 (+Infinity when sigma_t = 0). */
export function lambdaOf(alphaT: number, sigmaT: number): number {
  return f32(logF32(alphaT) - logF32(sigmaT));
}
