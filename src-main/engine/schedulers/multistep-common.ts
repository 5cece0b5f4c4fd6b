// Helpers shared by the Heun, LMS, DPM-Solver++ and UniPC ports (diffusers v0.40.0) that common.ts does not
// provide: torch's float32 scalar maths for the multistep solvers (alpha_t/sigma_t/lambda), the exact
// float32 2x2 `torch.linalg.solve` of UniPC's corrector, and scipy's `integrate.quad` as LMS calls it.
//
// Scalars that torch holds as 0-d float32 tensors are plain numbers rounded with `f32` after every op.

import { fmaf32, indexForTimestep, karrasSigmas, npLinspace, roundHalfEven, sigmaToT, type NoiseSchedule } from './common.js';
import type { SchedulerConfig } from './types.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

// ---------------------------------------------------------------------------------------------------------------
// float32 transcendental functions of 0-d tensors

/** `torch.sqrt` / `x ** 0.5` of a float32 scalar. */
export function sqrtF32(x: number): number {
  return f32(Math.sqrt(x));
}

// SLEEF double-float ("df") helpers: a value is the unevaluated sum hi + lo of two float32s.
type DF = [hi: number, lo: number];
const fmapn = (x: number, y: number, z: number): number => fmaf32(x, y, -z); // x*y - z
const fmanp = (x: number, y: number, z: number): number => fmaf32(-x, y, z); // -x*y + z
function dfAdd2FF(x: number, y: number): DF {
  const s = f32(x + y);
  const v = f32(s - x);
  return [s, f32(f32(x - f32(s - v)) + f32(y - v))];
}
function dfAdd2DFF(x: DF, y: number): DF {
  const s = f32(x[0] + y);
  const v = f32(s - x[0]);
  return [s, f32(f32(f32(x[0] - f32(s - v)) + f32(y - v)) + x[1])];
}
function dfAdd2DFDF(x: DF, y: DF): DF {
  const s = f32(x[0] + y[0]);
  const v = f32(s - x[0]);
  return [s, f32(f32(f32(x[0] - f32(s - v)) + f32(y[0] - v)) + f32(x[1] + y[1]))];
}
function dfAddDFDF(x: DF, y: DF): DF {
  const s = f32(x[0] + y[0]);
  return [s, f32(f32(f32(f32(x[0] - s) + y[0]) + x[1]) + y[1])];
}
function dfAddDFF(x: DF, y: number): DF {
  const s = f32(x[0] + y);
  return [s, f32(f32(f32(x[0] - s) + y) + x[1])];
}
function dfAddFDF(x: number, y: DF): DF {
  const s = f32(x + y[0]);
  return [s, f32(f32(f32(x - s) + y[0]) + y[1])];
}
function dfMulDFF(x: DF, y: number): DF {
  const s = f32(x[0] * y);
  return [s, fmaf32(x[1], y, fmapn(x[0], y, s))];
}
function dfMulDFDF(x: DF, y: DF): DF {
  const s = f32(x[0] * y[0]);
  return [s, fmaf32(x[0], y[1], fmaf32(x[1], y[0], fmapn(x[0], y[0], s)))];
}
function dfSqu(x: DF): DF {
  const s = f32(x[0] * x[0]);
  return [s, fmaf32(f32(x[0] + x[0]), x[1], fmapn(x[0], x[0], s))];
}
function dfDiv(n: DF, d: DF): DF {
  const t = f32(1 / d[0]);
  const s = f32(n[0] * t);
  const u = fmapn(t, n[0], s);
  const v = fmanp(d[1], t, fmanp(d[0], t, 1));
  return [s, fmaf32(s, v, fmaf32(n[1], t, u))];
}
/** SLEEF vldexp2: x * 2^q as two power-of-two scalings. */
function ldexp2(x: number, q: number): number {
  const q1 = q >> 1;
  return f32(f32(x * 2 ** q1) * 2 ** (q - q1));
}
const LOG_F32_BUF = new Float32Array(1);
const LOG_U32_BUF = new Uint32Array(LOG_F32_BUF.buffer);
const LN2_DF: DF = [f32(0.69314718246459960938), f32(-1.904654323148236017e-9)];
const LOG_C = [0.3027294874, 0.3996108174, 0.666669488].map(f32);

/**
 * `torch.log` of a float32 scalar, bit for bit: SLEEF's `Sleef_logf8_u10` (AVX2, FMA), which torch uses even
 * for 0-d tensors and which differs from the correctly rounded log in ~1-2% of inputs by 1 ulp.
 * Matched torch on 20,000 of 20,000 test values in [0.001, 20].
 */
export function logF32(x: number): number {
  let d = f32(x);
  if (Number.isNaN(d) || d < 0) return NaN;
  if (d === 0) return -Infinity;
  if (d === Infinity) return Infinity;
  let eAdj = 0;
  if (d < 1.1754943508222875e-38) {
    d = f32(d * 2 ** 64);
    eAdj = 64;
  }
  LOG_F32_BUF[0] = f32(d * f32(1 / 0.75));
  const e = ((LOG_U32_BUF[0]! >>> 23) & 0xff) - 0x7f;
  const m = f32(d * 2 ** -e);
  let s = dfMulDFF(LN2_DF, e - eAdj);
  const xq = dfDiv(dfAdd2FF(-1, m), dfAdd2FF(1, m));
  const x2 = f32(xq[0] * xq[0]);
  let t = LOG_C[0]!;
  t = fmaf32(t, x2, LOG_C[1]!);
  t = fmaf32(t, x2, LOG_C[2]!);
  s = dfAddDFDF(s, [f32(xq[0] * 2), f32(xq[1] * 2)]);
  s = dfAddDFF(s, f32(f32(x2 * xq[0]) * t));
  return f32(s[0] + s[1]);
}

const R_LN2F = f32(1.442695040888963407359924681001892137426645954152985934135449406931);
const L2UF = f32(0.693145751953125);
const L2LF = f32(1.428606765330187045e-6);
const EXP_POLY = [0.00139304355252534151077271, 0.00833336077630519866943359, 0.0416664853692054748535156, 0.166666671633720397949219, 0.5].map(f32);
const EXP_POLY0 = f32(0.000198527617612853646278381);

/**
 * `torch.exp` of a float32 scalar, bit for bit: torch evaluates even a 0-d tensor with SLEEF's vectorised
 * `Sleef_expf8_u10` (AVX2, FMA), which differs from the correctly rounded exp in ~10% of inputs by 1 ulp.
 * This is SLEEF's algorithm (Cody-Waite reduction, degree-6 polynomial, FMAs) in float32; it matched torch
 * on 45,000 of 45,000 test values.
 */
export function expF32(x: number): number {
  const d = f32(x);
  if (Number.isNaN(d)) return NaN;
  if (d > 100) return Infinity;
  if (d < -104) return 0;
  const q = roundHalfEven(f32(d * R_LN2F));
  let s = fmaf32(q, -L2UF, d);
  s = fmaf32(q, -L2LF, s);
  let u = EXP_POLY0;
  for (const c of EXP_POLY) u = fmaf32(u, s, c);
  u = f32(1 + fmaf32(f32(s * s), u, s));
  // vldexp2: two power-of-two scalings
  const q1 = q >> 1;
  u = f32(u * 2 ** q1);
  return f32(u * 2 ** (q - q1));
}

const EXPK2_C = [0.1980960224e-3, 0.1394256484e-2, 0.8333456703e-2, 0.4166637361e-1].map(f32);
const EXPK2_C5 = f32(0.166666659414234244790680580464);

/** SLEEF's expk2f: exp of a double-float, as a double-float. */
function expk2f(d: DF): DF {
  const q = roundHalfEven(f32(f32(d[0] + d[1]) * R_LN2F));
  let s = dfAdd2DFF(d, f32(q * -L2UF));
  s = dfAdd2DFF(s, f32(q * -L2LF));
  let u = EXPK2_C[0]!;
  for (let i = 1; i < 4; i++) u = fmaf32(u, s[0], EXPK2_C[i]!);
  let t = dfAdd2DFF(dfMulDFF(s, u), EXPK2_C5);
  t = dfAdd2DFF(dfMulDFDF(s, t), 0.5);
  t = dfAdd2DFDF(s, dfMulDFDF(dfSqu(s), t));
  t = dfAddFDF(1, t);
  if (d[0] < -104) return [0, 0];
  return [ldexp2(t[0], q), ldexp2(t[1], q)];
}

/**
 * `torch.expm1` of a float32 scalar, bit for bit: SLEEF's `Sleef_expm1f8_u10` (AVX2, FMA), in double-float
 * arithmetic. Matched torch on 20,000 of 20,000 test values in [-20, 3].
 */
export function expm1F32(x: number): number {
  const a = f32(x);
  if (Number.isNaN(a)) return NaN;
  if (a > 88.72283172607421875) return Infinity;
  if (a < -16.635532333438687426013570) return -1;
  if (Object.is(a, -0)) return -0;
  const d = dfAdd2DFF(expk2f([a, 0]), -1);
  return f32(d[0] + d[1]);
}

/**
 * diffusers `_sigma_to_alpha_sigma_t` for a float32 sigma: `alpha_t = 1 / (sigma**2 + 1) ** 0.5`,
 * `sigma_t = sigma * alpha_t`, all float32. sigma = 0 gives (1, 0).
 */
export function alphaSigmaT(sigma: number): [alphaT: number, sigmaT: number] {
  const alpha = f32(1 / sqrtF32(f32(f32(sigma * sigma) + 1)));
  return [alpha, f32(sigma * alpha)];
}

/** `lambda = log(alpha_t) - log(sigma_t)` in float32 (+Infinity when sigma_t = 0). */
export function lambdaOf(alphaT: number, sigmaT: number): number {
  return f32(logF32(alphaT) - logF32(sigmaT));
}

// ---------------------------------------------------------------------------------------------------------------
// torch.linalg.solve, 2x2 float32

/**
 * `torch.linalg.solve(R, b)` for a 2x2 float32 system, bit for bit as torch 1.13 on the CPU (OpenBLAS) does it:
 * torch factors `R^T` (the row-major input seen as column-major), LU with partial pivoting, the multiplier
 * `l = m10 * (1 / m00)` (getf2 scales by the reciprocal), then solves `(R^T)^T x = b` with the transposed
 * triangular solves (true divisions) and applies the row swap at the end. Matched 4000/4000 random systems.
 * R = [[r00, r01], [r10, r11]] row-major. Returns [x0, x1].
 */
export function solve2x2F32(r00: number, r01: number, r10: number, r11: number, b0: number, b1: number): [number, number] {
  // M = R^T (column-major view of the row-major R).
  let m00 = f32(r00);
  let m01 = f32(r10);
  let m10 = f32(r01);
  let m11 = f32(r11);
  const swap = Math.abs(m10) > Math.abs(m00);
  if (swap) {
    [m00, m10] = [m10, m00];
    [m01, m11] = [m11, m01];
  }
  const l = f32(m10 * f32(1 / m00));
  const u11 = f32(m11 - f32(l * m01));
  // Solve U^T z = b, then L^T w = z, then x = P w.
  const z0 = f32(f32(b0) / m00);
  const z1 = f32(f32(f32(b1) - f32(m01 * z0)) / u11);
  const w1 = z1;
  const w0 = f32(z0 - f32(l * w1));
  return swap ? [w1, w0] : [w0, w1];
}

// ---------------------------------------------------------------------------------------------------------------
// scipy.integrate.quad (QUADPACK dqagse), as LMSDiscreteScheduler calls it

// QUADPACK dqk21: 21-point Kronrod abscissae/weights and the 10-point Gauss weights.
const XGK = [
  0.995657163025808080735527280689003, 0.973906528517171720077964012084452, 0.930157491355708226001207180059508,
  0.865063366688984510732096688423493, 0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
  0.562757134668604683339000099272694, 0.433395394129247190799265943165784, 0.294392862701460198131126603103866,
  0.14887433898163121088482600112972, 0.0,
];
const WGK = [
  0.011694638867371874278064396062192, 0.03255816230796472747881897245939, 0.05475589657435199603138130024458,
  0.07503967481091995276704314091619, 0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
  0.123491976262065851077958109831074, 0.134709217311473325928054001771707, 0.142775938577060080797094273138717,
  0.147739104901338491374841515972068, 0.149445554002916905664936468389821,
];
const WG = [
  0.066671344308688137593568809893332, 0.149451349150580593145776339657697, 0.219086362515982043995534934228163,
  0.269266719309996355091226921569469, 0.295524224714752870173892994651338,
];
const EPMACH = 2.220446049250313e-16;
const UFLOW = 2.2250738585072014e-308;

export interface GK21Result {
  result: number;
  abserr: number;
  resabs: number;
  resasc: number;
}

/** QUADPACK's dqk21 on [a, b] (float64, same operation order as the Fortran). */
export function gaussKronrod21(f: (x: number) => number, a: number, b: number): GK21Result {
  const centr = 0.5 * (a + b);
  const hlgth = 0.5 * (b - a);
  const dhlgth = Math.abs(hlgth);
  let resg = 0;
  const fc = f(centr);
  let resk = WGK[10]! * fc;
  let resabs = Math.abs(resk);
  const fv1 = new Array<number>(10);
  const fv2 = new Array<number>(10);
  for (let j = 1; j <= 5; j++) {
    const jtw = 2 * j - 1; // 0-based index of Fortran's xgk(2j)
    const absc = hlgth * XGK[jtw]!;
    const fval1 = f(centr - absc);
    const fval2 = f(centr + absc);
    fv1[jtw] = fval1;
    fv2[jtw] = fval2;
    const fsum = fval1 + fval2;
    resg = resg + WG[j - 1]! * fsum;
    resk = resk + WGK[jtw]! * fsum;
    resabs = resabs + WGK[jtw]! * (Math.abs(fval1) + Math.abs(fval2));
  }
  for (let j = 1; j <= 5; j++) {
    const jtwm1 = 2 * j - 2; // Fortran's xgk(2j-1)
    const absc = hlgth * XGK[jtwm1]!;
    const fval1 = f(centr - absc);
    const fval2 = f(centr + absc);
    fv1[jtwm1] = fval1;
    fv2[jtwm1] = fval2;
    const fsum = fval1 + fval2;
    resk = resk + WGK[jtwm1]! * fsum;
    resabs = resabs + WGK[jtwm1]! * (Math.abs(fval1) + Math.abs(fval2));
  }
  const reskh = resk * 0.5;
  let resasc = WGK[10]! * Math.abs(fc - reskh);
  for (let j = 0; j < 10; j++) resasc = resasc + WGK[j]! * (Math.abs(fv1[j]! - reskh) + Math.abs(fv2[j]! - reskh));
  const result = resk * hlgth;
  resabs = resabs * dhlgth;
  resasc = resasc * dhlgth;
  let abserr = Math.abs((resk - resg) * hlgth);
  if (resasc !== 0 && abserr !== 0) abserr = resasc * Math.min(1, (200 * abserr / resasc) ** 1.5);
  if (resabs > UFLOW / (50 * EPMACH)) abserr = Math.max(EPMACH * 50 * resabs, abserr);
  return { result, abserr, resabs, resasc };
}

/**
 * `scipy.integrate.quad(f, a, b, epsrel=epsrel)` (epsabs 1.49e-8) for the low-degree polynomials LMS integrates:
 * dqagse's first 21-point Gauss-Kronrod estimate, which it returns whenever its error estimate meets the
 * tolerance. That is always the case for a polynomial of degree <= 19 evaluated to float32 precision (the
 * Kronrod-Gauss difference is rounding noise), so the adaptive bisection never starts. If it ever did,
 * `fallback` (the exact integral) is returned instead; the two agree to rounding.
 */
export function quadPolynomial(f: (x: number) => number, a: number, b: number, fallback: () => number, epsrel = 1e-4, epsabs = 1.49e-8): number {
  const r = gaussKronrod21(f, a, b);
  const errbnd = Math.max(epsabs, epsrel * Math.abs(r.result));
  if ((r.abserr <= errbnd && r.abserr !== r.resabs) || r.abserr === 0) return r.result;
  return fallback();
}

/**
 * `LMSDiscreteScheduler.get_lms_coefficient(order, t, current_order)`: the integral over [sigmas[t], sigmas[t+1]]
 * of the Lagrange basis polynomial of node `sigmas[t - current_order]` on the nodes `sigmas[t - k]`, k < order.
 * The integrand is evaluated as diffusers does, with float32 torch scalars: `tau` is rounded to float32 and
 * every factor `(tau - s_k) / (s_c - s_k)` and the running product are float32. The integral itself is
 * scipy's (float64 Gauss-Kronrod), so the coefficient matches scipy.integrate.quad bit for bit.
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
  return quadPolynomial(integrand, a, b, () => exactLagrangeIntegral(nodes, dens, a, b));
}

/** The exact float64 integral over [a, b] of prod_k (tau - nodes[k]) / dens[k] (polynomial expanded). */
export function exactLagrangeIntegral(nodes: readonly number[], dens: readonly number[], a: number, b: number): number {
  // coefficients of the polynomial, lowest degree first
  let poly = [1];
  for (let k = 0; k < nodes.length; k++) {
    const next = new Array<number>(poly.length + 1).fill(0);
    for (let i = 0; i < poly.length; i++) {
      next[i + 1]! += poly[i]! / dens[k]!;
      next[i]! -= (poly[i]! * nodes[k]!) / dens[k]!;
    }
    poly = next;
  }
  let fb = 0;
  let fa = 0;
  for (let i = poly.length - 1; i >= 0; i--) {
    fb = fb * b + poly[i]! / (i + 1);
    fa = fa * a + poly[i]! / (i + 1);
  }
  return fb * b - fa * a;
}

// ---------------------------------------------------------------------------------------------------------------
// Schedules

/**
 * diffusers' `index_for_timestep` of DPM-Solver / UniPC: the second match when the value appears more than
 * once, the last index when it does not appear at all.
 */
export function indexForTimestepOrLast(schedule: readonly number[], timestep: number): number {
  if (!schedule.includes(timestep)) return schedule.length - 1;
  return indexForTimestep(schedule, timestep);
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

/** Throw for a config flag this port does not implement. */
export function rejectUnsupported(config: SchedulerConfig, who: string, checks: Array<[key: string, ok: (v: unknown) => boolean]>): void {
  for (const [key, ok] of checks) {
    const v = config[key];
    if (!ok(v)) throw new Error(`${who}: ${key}=${JSON.stringify(v)} is not supported`);
  }
}

/** For `rejectUnsupported`: the value is false, null or absent. */
export const isOff = (v: unknown): boolean => v === undefined || v === null || v === false;

/**
 * diffusers DPM-Solver `_convert_to_lu`: `(lambda_max + ramp * (lambda_min - lambda_max)) ** 1` over
 * `ramp = linspace(0, 1, n)` (float64; the "lambdas" are the float32 log-sigmas of the training range).
 */
export function npLinspaceLambdas(lambdaMax: number, lambdaMin: number, n: number): number[] {
  return npLinspace(0, 1, n).map((r) => lambdaMax + r * (lambdaMin - lambdaMax));
}

/**
 * `torch.linalg.solve(R, b)` in float32 for a small n x n system (UniPC order 3's 3x3 corrector), following the
 * scheme of `solve2x2F32` (LU of R^T with partial pivoting, reciprocal-scaled multipliers, transposed
 * triangular solves). For n = 2 it is `solve2x2F32`; for n >= 3 the summation order inside OpenBLAS is not
 * reproduced, so results can differ from torch by an ulp.
 */
export function solveF32(R: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  if (n === 1) return [f32(f32(b[0]!) / f32(R[0]![0]!))];
  if (n === 2) return solve2x2F32(R[0]![0]!, R[0]![1]!, R[1]![0]!, R[1]![1]!, b[0]!, b[1]!);
  // M = R^T, factor P M = L U (right-looking).
  const M: number[][] = [];
  for (let i = 0; i < n; i++) M.push(Array.from({ length: n }, (_, j) => f32(R[j]![i]!)));
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let j = 0; j < n; j++) {
    let p = j;
    for (let i = j + 1; i < n; i++) if (Math.abs(M[i]![j]!) > Math.abs(M[p]![j]!)) p = i;
    if (p !== j) {
      [M[p], M[j]] = [M[j]!, M[p]!];
      [perm[p], perm[j]] = [perm[j]!, perm[p]!];
    }
    const inv = f32(1 / M[j]![j]!);
    for (let i = j + 1; i < n; i++) {
      const l = f32(M[i]![j]! * inv);
      M[i]![j] = l;
      for (let k = j + 1; k < n; k++) M[i]![k] = f32(M[i]![k]! - f32(l * M[j]![k]!));
    }
  }
  // (P^T L U)^T x = b  =>  U^T z = b, L^T w = z, x = P^T w.
  const z = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let s = f32(b[i]!);
    for (let k = 0; k < i; k++) s = f32(s - f32(M[k]![i]! * z[k]!));
    z[i] = f32(s / M[i]![i]!);
  }
  const w = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < n; k++) s = f32(s - f32(M[k]![i]! * w[k]!));
    w[i] = s;
  }
  const x = new Array<number>(n);
  for (let i = 0; i < n; i++) x[perm[i]!] = w[i]!;
  return x;
}
