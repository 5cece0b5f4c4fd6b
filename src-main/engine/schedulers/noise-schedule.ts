// The float32 noise-schedule tables of a configuration (betas, alphas_cumprod, sigmas, log sigmas), built with
// torch/numpy's own operations so they equal diffusers' tables bit for bit, and cached per configuration
// (schedulers are created per generation).

import { cfgBool, cfgNumber, cfgString } from './config.js';
import { f32, sqrt32 } from './numerics/float32.js';
import { npLogF32 } from './numerics/numpy.js';
import { cumprodF32, torchLinspaceF32 } from './numerics/torch-float32.js';
import type { SchedulerConfig } from './types.js';

/** diffusers' `betas_for_alpha_bar` (cosine), float64 then float32, as `squaredcos_cap_v2`. */
export function betasForAlphaBar(numDiffusionTimesteps: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  const out = new Float32Array(numDiffusionTimesteps);
  for (let i = 0; i < numDiffusionTimesteps; i++) {
    const t1 = i / numDiffusionTimesteps;
    const t2 = (i + 1) / numDiffusionTimesteps;
    out[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return out;
}

/** diffusers' `rescale_zero_terminal_snr` (float32 torch ops). */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  const alphas = new Float32Array(n);
  for (let i = 0; i < n; i++) alphas[i] = f32(1 - betas[i]!);
  const ac = cumprodF32(alphas);
  const sq = new Float32Array(n);
  for (let i = 0; i < n; i++) sq[i] = sqrt32(ac[i]!);
  const s0 = sq[0]!;
  const sT = sq[n - 1]!;
  const scale = f32(s0 / f32(s0 - sT));
  for (let i = 0; i < n; i++) sq[i] = f32(f32(sq[i]! - sT) * scale);
  const bar = new Float32Array(n);
  for (let i = 0; i < n; i++) bar[i] = f32(sq[i]! * sq[i]!);
  const out = new Float32Array(n);
  out[0] = f32(1 - bar[0]!);
  for (let i = 1; i < n; i++) out[i] = f32(1 - f32(bar[i]! / bar[i - 1]!));
  return out;
}

export interface NoiseSchedule {
  numTrainTimesteps: number;
  /** float32 betas as diffusers builds them. */
  betas: Float32Array;
  /** float32 `1 - betas`. */
  alphas: Float32Array;
  /** float32 `cumprod(alphas)` (float64 accumulation), with diffusers' zero-SNR tweak if enabled. */
  alphasCumprod: Float32Array;
  /** float32 `sqrt((1 - ac) / ac)` by training timestep (not flipped): sigmaTable[t]. */
  sigmaTable: Float32Array;
  /** float32 `np.log(sigmaTable)`, numpy's own float32 log (`npLogF32`), as diffusers' `log_sigmas`. */
  logSigmaTable: Float32Array;
  /** `[0, 1, ..., T-1]` as numbers (np.arange(0, T) for np.interp). */
  trainSteps: number[];
}

const scheduleCache = new Map<string, NoiseSchedule>();

/**
 * The float32 tables of a config (`num_train_timesteps`, `beta_start`, `beta_end`, `beta_schedule`,
 * `trained_betas`, `rescale_betas_zero_snr`), cached. Defaults are diffusers' (linear 1e-4..0.02), so pass the
 * resolved config. `zeroSnrLastAlphaCumprod`: Euler-type schedulers set `alphas_cumprod[-1] = 2**-24` when
 * rescaling to zero SNR (pass true there). Treat the returned arrays as read-only.
 */
export function getNoiseSchedule(config: SchedulerConfig, zeroSnrLastAlphaCumprod = false): NoiseSchedule {
  const T = cfgNumber(config, 'num_train_timesteps', 1000);
  const betaStart = cfgNumber(config, 'beta_start', 0.0001);
  const betaEnd = cfgNumber(config, 'beta_end', 0.02);
  const schedule = cfgString(config, 'beta_schedule', 'linear');
  const trained = config['trained_betas'];
  const rescale = cfgBool(config, 'rescale_betas_zero_snr', false);
  const key = JSON.stringify([T, betaStart, betaEnd, schedule, trained ?? null, rescale, rescale && zeroSnrLastAlphaCumprod]);
  const hit = scheduleCache.get(key);
  if (hit) return hit;

  let betas: Float32Array;
  if (Array.isArray(trained) || ArrayBuffer.isView(trained)) {
    betas = Float32Array.from(trained as ArrayLike<number>);
  } else if (schedule === 'linear') {
    betas = torchLinspaceF32(betaStart, betaEnd, T);
  } else if (schedule === 'scaled_linear') {
    betas = torchLinspaceF32(betaStart ** 0.5, betaEnd ** 0.5, T);
    for (let i = 0; i < T; i++) betas[i] = f32(betas[i]! * betas[i]!);
  } else if (schedule === 'squaredcos_cap_v2') {
    betas = betasForAlphaBar(T);
  } else {
    throw new Error(`${schedule} is not implemented`);
  }
  if (rescale) betas = rescaleZeroTerminalSnr(betas);
  const n = betas.length;
  const alphas = new Float32Array(n);
  for (let i = 0; i < n; i++) alphas[i] = f32(1 - betas[i]!);
  const alphasCumprod = cumprodF32(alphas);
  if (rescale && zeroSnrLastAlphaCumprod) alphasCumprod[n - 1] = 2 ** -24;
  const sigmaTable = new Float32Array(n);
  const logSigmaTable = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const ac = alphasCumprod[i]!;
    sigmaTable[i] = sqrt32(f32(f32(1 - ac) / ac));
    logSigmaTable[i] = npLogF32(sigmaTable[i]!);
  }
  const trainSteps = Array.from({ length: n }, (_, i) => i);
  const out: NoiseSchedule = { numTrainTimesteps: T, betas, alphas, alphasCumprod, sigmaTable, logSigmaTable, trainSteps };
  scheduleCache.set(key, out);
  return out;
}
