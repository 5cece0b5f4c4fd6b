// numpy 1.24 emulation: the float64 array builders diffusers' schedulers call (linspace, arange, interp, round)
// and numpy's own float32 log, each reproducing numpy's operation order so results match bit for bit.

import { f32, fmaf32 } from './float32.js';

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

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
