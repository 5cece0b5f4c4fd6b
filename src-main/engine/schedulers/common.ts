// Shared building blocks of the schedulers, ported from diffusers v0.40.0 with torch/numpy float semantics.
//
// Conventions:
// - Samples are flat Float32Array in NCHW order. Every elementwise op is rounded with Math.fround (`f32`) in
//   the same order as torch evaluates it, so a port matches diffusers to ~1 ulp.
// - Scalars that torch holds as 0-d float32 tensors are plain numbers rounded with f32 after each op.
// - Scalars numpy holds as float64 (np.interp, np.linspace, Karras ramps) are plain numbers, not rounded.
// - Tables (betas, alphas_cumprod, sigmas) are cached per configuration: schedulers are created per generation.

import type { NoiseSource, SchedulerConfig } from './types.js';

/** Round to float32 (torch float32 semantics for one op). */
export const f32 = Math.fround;

/** float32 sqrt (torch `x ** 0.5` / `.sqrt()` on a float32 tensor): correctly rounded. */
export function sqrt32(x: number): number {
  return Math.fround(Math.sqrt(x));
}

// ---------------------------------------------------------------------------------------------------------------
// Configuration

/** Keys of diffusers' config files that are bookkeeping, not settings. */
const IGNORED_KEYS = new Set(['_class_name', '_diffusers_version', '_use_default_values', '_name_or_path']);

/**
 * The scheduler's diffusers defaults with the model's `scheduler_config.json` merged over (snake_case, as-is).
 * Keys starting with `_` (`_class_name`, `_diffusers_version`, ...) are dropped; unknown keys are kept (and
 * ignored by the scheduler); `undefined` values in `userConfig` do not override a default. `null` does
 * (diffusers passes `None` through, e.g. `trained_betas: null`).
 */
export function resolveConfig<T extends SchedulerConfig>(defaults: T, userConfig?: SchedulerConfig): T & SchedulerConfig {
  const out: SchedulerConfig = { ...defaults };
  if (userConfig) {
    for (const [k, v] of Object.entries(userConfig)) {
      if (IGNORED_KEYS.has(k) || k.startsWith('_') || v === undefined) continue;
      out[k] = v;
    }
  }
  return out as T & SchedulerConfig;
}

/** Read a numeric config key (numbers or numeric strings), falling back to `fallback`. */
export function cfgNumber(config: SchedulerConfig, key: string, fallback: number): number {
  const v = config[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return fallback;
}

/** Read a boolean config key (`null`/missing gives `fallback`). */
export function cfgBool(config: SchedulerConfig, key: string, fallback: boolean): boolean {
  const v = config[key];
  return typeof v === 'boolean' ? v : fallback;
}

/** Read a string config key (`null`/missing gives `fallback`). */
export function cfgString(config: SchedulerConfig, key: string, fallback: string): string {
  const v = config[key];
  return typeof v === 'string' ? v : fallback;
}

/** diffusers' SD 1.x scheduler_config.json, handy in tests and as the engine's fallback. */
export const SD15_SCHEDULER_CONFIG: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  steps_offset: 1,
  set_alpha_to_one: false,
  clip_sample: false,
  prediction_type: 'epsilon',
});

export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

/** Validate `timestep_spacing` (throws like diffusers on unknown values). */
export function timestepSpacingOf(config: SchedulerConfig, fallback: TimestepSpacing): TimestepSpacing {
  const s = cfgString(config, 'timestep_spacing', fallback);
  if (s !== 'leading' && s !== 'trailing' && s !== 'linspace') {
    throw new Error(`${s} is not supported. Please make sure to choose one of 'linspace', 'leading' or 'trailing'.`);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// numpy / torch numerics

/** Correctly rounded float32 fused multiply-add `a*b + c` (a, b, c float32), as C's fmaf. */
export function fmaf32(a: number, b: number, c: number): number {
  const p = a * b; // exact: two float32 mantissas fit in a float64
  const s = p + c;
  // TwoSum error term: s + e == p + c exactly.
  const bb = s - p;
  const e = p - (s - bb) + (c - bb);
  const r = f32(s);
  if (e === 0 || r === s) return r;
  // s lies strictly between float32 neighbours; the double rounding only matters at an exact tie.
  const other = nextF32Toward(r, s);
  const d1 = Math.abs(s - r);
  const d2 = Math.abs(other - s);
  if (d1 !== d2) return r;
  // exact tie in float64: the true value p + c = s + e decides.
  const towardOther = (other > r) === (e > 0);
  return towardOther ? other : r;
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
/** The float32 next to float32 `x` in the direction of `target`. */
function nextF32Toward(x: number, target: number): number {
  if (target === x) return x;
  if (x === 0) return target > 0 ? 1.401298464324817e-45 : -1.401298464324817e-45;
  f32buf[0] = x;
  const up = target > x;
  if ((x > 0) === up) u32buf[0] += 1;
  else u32buf[0] -= 1;
  return f32buf[0]!;
}

// numpy 1.24's float32 log (AVX2-FMA3 / AVX512F `simd_log_FLOAT`, used for every float32 np.log on x86-64
// with AVX2): a 5/5 rational approximation in float32 with FMAs. It is not correctly rounded (about 1 in 5
// values differs by 1 ulp from a float32-rounded libm log), and diffusers' `_sigma_to_t` depends on it.
const LOG_P = [0.0, 9.999999999999998702752e-1, 2.112677543073053063722, 1.480000633576506585156, 3.808837741388407920751e-1, 2.589979117907922693523e-2].map(Math.fround);
const LOG_Q = [1.0, 2.612677543073109236779, 2.453006071784736363091, 9.864942958519418960339e-1, 1.546476374983906719538e-1, 5.875095403124574342950e-3].map(Math.fround);
const LOGE2F = Math.fround(0.693147180559945309417232121458176568);
const SQRT1_2F = Math.fround(0.707106781186547524400844362104849039);

/** `np.log` of a float32 value as numpy 1.24 computes it on x86-64 (AVX2/AVX512F SIMD path), float32 result. */
export function npLogF32(value: number): number {
  let x = f32(value);
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let expAdjust = 0;
  if (x < 1.1754943508222875e-38) {
    x = f32(x * 2 ** 100);
    expAdjust = 100;
  }
  f32buf[0] = x;
  const bits = u32buf[0]!;
  let exponent = ((bits >>> 23) & 0xff) - 126 - expAdjust;
  u32buf[0] = (bits & 0x7fffff) | (126 << 23);
  let m = f32buf[0]!;
  if (m <= SQRT1_2F) {
    m = f32(m + m);
    exponent -= 1;
  }
  m = f32(m - 1);
  let num = fmaf32(LOG_P[5]!, m, LOG_P[4]!);
  num = fmaf32(num, m, LOG_P[3]!);
  num = fmaf32(num, m, LOG_P[2]!);
  num = fmaf32(num, m, LOG_P[1]!);
  num = fmaf32(num, m, LOG_P[0]!);
  let den = fmaf32(LOG_Q[5]!, m, LOG_Q[4]!);
  den = fmaf32(den, m, LOG_Q[3]!);
  den = fmaf32(den, m, LOG_Q[2]!);
  den = fmaf32(den, m, LOG_Q[1]!);
  den = fmaf32(den, m, LOG_Q[0]!);
  const poly = f32(num / den);
  return fmaf32(exponent, LOGE2F, poly);
}

/** numpy's `round` (round half to even), on float64. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // half up
  if (Math.abs(x - Math.trunc(x)) === 0.5) {
    const fl = Math.floor(x);
    return fl % 2 === 0 ? fl : fl + 1;
  }
  return r;
}

/** `np.linspace(start, stop, num)` in float64 (endpoint=True), element for element as numpy 1.24 computes it. */
export function npLinspace(start: number, stop: number, num: number, endpoint = true): number[] {
  const div = endpoint ? num - 1 : num;
  const delta = stop - start;
  const out = new Array<number>(num);
  if (div > 0) {
    const step = delta / div;
    if (step === 0) {
      for (let i = 0; i < num; i++) out[i] = (i / div) * delta + start;
    } else {
      for (let i = 0; i < num; i++) out[i] = i * step + start;
    }
  } else {
    for (let i = 0; i < num; i++) out[i] = i * delta + start;
  }
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/** `np.arange(start, stop, step)` with float arguments, as numpy fills it (`start + i*((start+step)-start)`). */
export function npArange(start: number, stop: number, step: number): number[] {
  const len = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Array<number>(len);
  if (len > 0) out[0] = start;
  if (len > 1) {
    const next = start + step;
    out[1] = next;
    const delta = next - start;
    for (let i = 2; i < len; i++) out[i] = start + i * delta;
  }
  return out;
}

/**
 * `np.interp(x, xp, fp)` for increasing `xp`, in float64 exactly as numpy's C loop: values below/above the range
 * take fp[0]/fp[last]; an exact hit on xp[j] returns fp[j]; otherwise `slope*(x - xp[j]) + fp[j]`.
 */
export function interp(x: ArrayLike<number>, xp: ArrayLike<number>, fp: ArrayLike<number>): number[] {
  const n = xp.length;
  const out = new Array<number>(x.length);
  for (let i = 0; i < x.length; i++) {
    const xv = x[i]!;
    if (Number.isNaN(xv)) {
      out[i] = xv;
      continue;
    }
    if (n === 1) {
      out[i] = fp[0]!;
      continue;
    }
    if (xv < xp[0]!) {
      out[i] = fp[0]!;
      continue;
    }
    if (xv >= xp[n - 1]!) {
      out[i] = fp[n - 1]!;
      continue;
    }
    // binary search: xp[j] <= xv < xp[j+1]
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (xp[mid]! <= xv) lo = mid;
      else hi = mid;
    }
    const j = lo;
    if (xp[j] === xv) {
      out[i] = fp[j]!;
      continue;
    }
    const slope = (fp[j + 1]! - fp[j]!) / (xp[j + 1]! - xp[j]!);
    let r = slope * (xv - xp[j]!) + fp[j]!;
    if (Number.isNaN(r)) {
      r = slope * (xv - xp[j + 1]!) + fp[j + 1]!;
      if (Number.isNaN(r) && fp[j] === fp[j + 1]) r = fp[j]!;
    }
    out[i] = r;
  }
  return out;
}

/**
 * `torch.linspace(start, end, steps, dtype=float32)` on the CPU (AVX2 build), bit-exact: step is computed in
 * float32, values come in blocks of 16 (two vectors of 8 whose base is an FMA from the nearer end), the tail
 * element-wise from the nearer end. Matches all 1000 SD betas of the reference table.
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 0) return out;
  const s = f32(start);
  const e = f32(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f32(f32(e - s) / f32(steps - 1));
  const halfway = Math.trunc(steps / 2);
  const scalarAt = (i: number): number => (i < halfway ? fmaf32(step, i, s) : fmaf32(-step, steps - i - 1, e));
  const VEC = 8;
  const vecEnd = Math.floor(steps / (2 * VEC)) * 2 * VEC;
  for (let idx = 0; idx < vecEnd; idx += VEC) {
    const base = scalarAt(idx);
    for (let k = 0; k < VEC; k++) out[idx + k] = f32(base + f32(k * step));
  }
  for (let i = vecEnd; i < steps; i++) out[i] = scalarAt(i);
  return out;
}

/** `torch.cumprod` of a float32 tensor on the CPU: accumulates in float64, stores float32 partial products. */
export function cumprodF32(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i]!;
    out[i] = acc;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Noise schedule tables

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

// ---------------------------------------------------------------------------------------------------------------
// Timestep spacing

/**
 * Integer timesteps of DDPM / DDIM / PNDM (`set_timesteps`), high to low:
 * leading `arange(N)*(T//N)` reversed `+ steps_offset`; trailing `round(arange(T, 0, -T/N)) - 1`;
 * linspace `round(linspace(0, T-1, N))` reversed (numpy half-even rounding).
 */
export function intTimesteps(spacing: TimestepSpacing, n: number, numTrain: number, stepsOffset: number): number[] {
  if (spacing === 'linspace') {
    return npLinspace(0, numTrain - 1, n).map(roundHalfEven).reverse();
  }
  if (spacing === 'leading') {
    const ratio = Math.floor(numTrain / n);
    const out: number[] = [];
    for (let i = n - 1; i >= 0; i--) out.push(i * ratio + stepsOffset);
    return out;
  }
  const ratio = numTrain / n;
  return npArange(numTrain, 0, -ratio).map((v) => roundHalfEven(v) - 1);
}

/**
 * Float32 timesteps of the Euler-type schedulers (Euler, EulerA, LMS, Heun) before any sigma conversion:
 * linspace is `np.linspace(0, T-1, N, dtype=float32)` reversed (fractional, e.g. 946.42108), leading and
 * trailing are the integer schedules (leading adds steps_offset, trailing subtracts 1) as float32.
 */
export function floatTimesteps(spacing: TimestepSpacing, n: number, numTrain: number, stepsOffset: number): number[] {
  if (spacing === 'linspace') return npLinspace(0, numTrain - 1, n).map(f32).reverse();
  if (spacing === 'leading') {
    const ratio = Math.floor(numTrain / n);
    const out: number[] = [];
    for (let i = n - 1; i >= 0; i--) out.push(f32(i * ratio + stepsOffset));
    return out;
  }
  const ratio = numTrain / n;
  return npArange(numTrain, 0, -ratio).map((v) => f32(roundHalfEven(v) - 1));
}

/**
 * Integer timesteps of DPM-Solver / UniPC (`set_timesteps` without Karras etc.), `lastTimestep` = T when
 * `lambda_min_clipped` is -inf: linspace `round(linspace(0, last-1, N+1))` reversed without its last entry;
 * leading `arange(N+1)*(last//(N+1))` reversed without its last entry, `+ steps_offset`; trailing
 * `round(arange(last, 0, -T/N)) - 1`.
 */
export function dpmTimesteps(
  spacing: TimestepSpacing,
  n: number,
  numTrain: number,
  stepsOffset: number,
  lastTimestep: number = numTrain,
): number[] {
  if (spacing === 'linspace') {
    return npLinspace(0, lastTimestep - 1, n + 1).map(roundHalfEven).reverse().slice(0, n);
  }
  if (spacing === 'leading') {
    const ratio = Math.floor(lastTimestep / (n + 1));
    const out: number[] = [];
    for (let i = n; i >= 1; i--) out.push(i * ratio + stepsOffset);
    return out;
  }
  const ratio = numTrain / n;
  return npArange(lastTimestep, 0, -ratio).map((v) => roundHalfEven(v) - 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Sigmas

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

// ---------------------------------------------------------------------------------------------------------------
// Step index

/**
 * diffusers `index_for_timestep`: the index of `timestep` in `schedule`, the **second** match when it appears
 * more than once (so img2img starting on a duplicated entry does not skip a sigma). Throws if absent.
 */
export function indexForTimestep(schedule: ArrayLike<number>, timestep: number): number {
  let first = -1;
  for (let i = 0; i < schedule.length; i++) {
    if (schedule[i] === timestep) {
      if (first >= 0) return i;
      first = i;
    }
  }
  if (first < 0) throw new Error(`timestep ${timestep} is not in the schedule`);
  return first;
}

// ---------------------------------------------------------------------------------------------------------------
// Elementwise float32 helpers (each op rounded, same order as torch)

/** Draw noise shaped like `like` (torch's stream depends only on the element count). */
export function drawNoise(generator: NoiseSource | undefined, like: Float32Array, who: string): Float32Array {
  if (!generator) throw new Error(`${who}: this step draws noise; pass options.generator`);
  const noise = generator.randn([like.length]);
  if (noise.length !== like.length) throw new Error(`${who}: generator returned ${noise.length} values, expected ${like.length}`);
  return noise;
}

/** Throw unless the two arrays have the same length. */
export function assertSameLength(a: ArrayLike<number>, b: ArrayLike<number>, who: string): void {
  if (a.length !== b.length) throw new Error(`${who}: length mismatch (${a.length} vs ${b.length})`);
}

/** `x * s` (float32 tensor times float32 scalar). */
export function scale(x: Float32Array, s: number): Float32Array {
  const out = new Float32Array(x.length);
  const ss = f32(s);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * ss;
  return out;
}

/** `x / s` (float32 tensor divided by float32 scalar). */
export function divScalar(x: Float32Array, s: number): Float32Array {
  const out = new Float32Array(x.length);
  const ss = f32(s);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! / ss;
  return out;
}

/** `a*x + b*y` evaluated as torch does `a * x + b * y` (three float32 roundings per element). */
export function axpby(a: number, x: Float32Array, b: number, y: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  const aa = f32(a);
  const bb = f32(b);
  for (let i = 0; i < x.length; i++) out[i] = f32(x[i]! * aa) + f32(y[i]! * bb);
  return out;
}

/** diffusers' DDPM-style add_noise: `sqrt(ac) * x0 + sqrt(1 - ac) * noise` with float32 ac. */
export function addNoiseAlphaCumprod(original: Float32Array, noise: Float32Array, alphaCumprod: number): Float32Array {
  assertSameLength(original, noise, 'addNoise');
  const ac = f32(alphaCumprod);
  return axpby(sqrt32(ac), original, sqrt32(f32(1 - ac)), noise);
}

/** Sigma-space add_noise of the Euler-type schedulers: `x0 + noise * sigma` (float32). */
export function addNoiseSigma(original: Float32Array, noise: Float32Array, sigma: number): Float32Array {
  assertSameLength(original, noise, 'addNoise');
  const s = f32(sigma);
  const out = new Float32Array(original.length);
  for (let i = 0; i < original.length; i++) out[i] = original[i]! + f32(noise[i]! * s);
  return out;
}

/** Throw a diffusers-like error for an unsupported prediction type. */
export function predictionTypeOf(config: SchedulerConfig, allowed: readonly PredictionType[]): PredictionType {
  const p = cfgString(config, 'prediction_type', 'epsilon');
  if (!(allowed as readonly string[]).includes(p)) {
    throw new Error(`prediction_type given as ${p} must be one of ${allowed.map((a) => `\`${a}\``).join(', ')}`);
  }
  return p as PredictionType;
}
