// Helpers shared by the Heun, LMS, DPM-Solver++ and UniPC ports (diffusers v0.40.0) that common.ts does not
// provide: torch's float32 scalar maths for the multistep solvers (alpha_t/sigma_t/lambda), the exact
// float32 2x2 `torch.linalg.solve` of UniPC's corrector, torch's SLEEF exp/log/expm1, and scipy's
// `integrate.quad` (QUADPACK dqagse) as LMS calls it.
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

/**
 * `torch.linalg.solve(R, b)` for a 2x2 float32 R that is **not contiguous** (UniPC's predictor passes the slice
 * `R[:-1, :-1]`): torch then factors R itself (no transpose trick) and solves with trans = 'N': LU with partial
 * pivoting and the reciprocal-scaled multiplier, L y = P b, U x = y with true divisions. Matched 1500/1500
 * random systems.
 */
export function solve2x2F32Strided(r00: number, r01: number, r10: number, r11: number, b0: number, b1: number): [number, number] {
  let a00 = f32(r00);
  let a01 = f32(r01);
  let a10 = f32(r10);
  let a11 = f32(r11);
  let c0 = f32(b0);
  let c1 = f32(b1);
  if (Math.abs(a10) > Math.abs(a00)) {
    [a00, a10] = [a10, a00];
    [a01, a11] = [a11, a01];
    [c0, c1] = [c1, c0];
  }
  const l = f32(a10 * f32(1 / a00));
  const u11 = f32(a11 - f32(l * a01));
  const y1 = f32(c1 - f32(l * c0));
  const x1 = f32(y1 / u11);
  const x0 = f32(f32(c0 - f32(a01 * x1)) / a00);
  return [x0, x1];
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

const OFLOW = Number.MAX_VALUE;

export interface QuadResult {
  result: number;
  abserr: number;
  /** QUADPACK's ier (0 = converged). */
  ier: number;
  /** Number of subintervals used (1 = the first 21-point estimate was accepted). */
  last: number;
}

/** QUADPACK dqpsrt: keeps iord (1-based) sorted by decreasing error; returns the new maxerr/errmax/nrmax. */
function dqpsrt(limit: number, last: number, maxerr: number, elist: Float64Array, iord: Int32Array, nrmaxIn: number): [number, number, number] {
  let nrmax = nrmaxIn;
  if (last <= 2) {
    iord[1] = 1;
    iord[2] = 2;
  } else {
    const errmax = elist[maxerr]!;
    if (nrmax !== 1) {
      const ido = nrmax - 1;
      for (let i = 1; i <= ido; i++) {
        const isucc = iord[nrmax - 1]!;
        if (errmax <= elist[isucc]!) break;
        iord[nrmax] = isucc;
        nrmax--;
      }
    }
    let jupbn = last;
    if (last > Math.trunc(limit / 2) + 2) jupbn = limit + 3 - last;
    const errmin = elist[last]!;
    const jbnd = jupbn - 1;
    const ibeg = nrmax + 1;
    let found = -1;
    for (let i = ibeg; i <= jbnd; i++) {
      const isucc = iord[i]!;
      if (errmax >= elist[isucc]!) {
        found = i;
        break;
      }
      iord[i - 1] = isucc;
    }
    if (found < 0) {
      iord[jbnd] = maxerr;
      iord[jupbn] = last;
    } else {
      const i = found;
      iord[i - 1] = maxerr;
      let k = jbnd;
      let placed = false;
      for (let j = i; j <= jbnd; j++) {
        const isucc = iord[k]!;
        if (errmin < elist[isucc]!) {
          iord[k + 1] = last;
          placed = true;
          break;
        }
        iord[k + 1] = isucc;
        k--;
      }
      if (!placed) iord[i] = last;
    }
  }
  const newMax = iord[nrmax]!;
  return [newMax, elist[newMax]!, nrmax];
}

/** QUADPACK dqelg: the epsilon algorithm on epstab[1..n] (1-based). Returns [n, result, abserr, nres]. */
function dqelg(nIn: number, epstab: Float64Array, res3la: Float64Array, nresIn: number): [number, number, number, number] {
  let n = nIn;
  const nres = nresIn + 1;
  let abserr = OFLOW;
  let result = epstab[n]!;
  if (n >= 3) {
    const limexp = 50;
    epstab[n + 2] = epstab[n]!;
    const newelm = Math.trunc((n - 1) / 2);
    epstab[n] = OFLOW;
    const num = n;
    let k1 = n;
    let converged = false;
    for (let i = 1; i <= newelm; i++) {
      const k2 = k1 - 1;
      const k3 = k1 - 2;
      let res = epstab[k1 + 2]!;
      const e0 = epstab[k3]!;
      const e1 = epstab[k2]!;
      const e2 = res;
      const e1abs = Math.abs(e1);
      const delta2 = e2 - e1;
      const err2 = Math.abs(delta2);
      const tol2 = Math.max(Math.abs(e2), e1abs) * EPMACH;
      const delta3 = e1 - e0;
      const err3 = Math.abs(delta3);
      const tol3 = Math.max(e1abs, Math.abs(e0)) * EPMACH;
      if (!(err2 > tol2 || err3 > tol3)) {
        result = res;
        abserr = err2 + err3;
        converged = true;
        break;
      }
      const e3 = epstab[k1]!;
      epstab[k1] = e1;
      const delta1 = e1 - e3;
      const err1 = Math.abs(delta1);
      const tol1 = Math.max(e1abs, Math.abs(e3)) * EPMACH;
      if (err1 <= tol1 || err2 <= tol2 || err3 <= tol3) {
        n = i + i - 1;
        break;
      }
      const ss = 1 / delta1 + 1 / delta2 - 1 / delta3;
      const epsinf = Math.abs(ss * e1);
      if (!(epsinf > 1e-4)) {
        n = i + i - 1;
        break;
      }
      res = e1 + 1 / ss;
      epstab[k1] = res;
      k1 = k1 - 2;
      const error = err2 + Math.abs(res - e2) + err3;
      if (!(error > abserr)) {
        abserr = error;
        result = res;
      }
    }
    if (!converged) {
      if (n === limexp) n = 2 * Math.trunc(limexp / 2) - 1;
      let ib = num % 2 === 0 ? 2 : 1;
      const ie = newelm + 1;
      for (let i = 1; i <= ie; i++) {
        const ib2 = ib + 2;
        epstab[ib] = epstab[ib2]!;
        ib = ib2;
      }
      if (num !== n) {
        let indx = num - n + 1;
        for (let i = 1; i <= n; i++) {
          epstab[i] = epstab[indx]!;
          indx++;
        }
      }
      if (nres < 4) {
        res3la[nres] = result;
        abserr = OFLOW;
      } else {
        abserr = Math.abs(result - res3la[3]!) + Math.abs(result - res3la[2]!) + Math.abs(result - res3la[1]!);
        res3la[1] = res3la[2]!;
        res3la[2] = res3la[3]!;
        res3la[3] = result;
      }
    }
  }
  abserr = Math.max(abserr, 5 * EPMACH * Math.abs(result));
  return [n, result, abserr, nres];
}

/**
 * QUADPACK dqagse, which `scipy.integrate.quad(f, a, b)` runs for a finite interval (scipy 1.10: epsabs 1.49e-8,
 * limit 50): the 21-point Gauss-Kronrod estimate, accepted when its error estimate meets
 * max(epsabs, epsrel*|result|); otherwise adaptive bisection with Wynn's epsilon extrapolation. A statement for
 * statement port (same float64 operations and order), so it returns scipy's numbers.
 */
export function quadpackQagse(f: (x: number) => number, a: number, b: number, epsabs = 1.49e-8, epsrel = 1.49e-8, limit = 50): QuadResult {
  const alist = new Float64Array(limit + 2);
  const blist = new Float64Array(limit + 2);
  const rlist = new Float64Array(limit + 2);
  const elist = new Float64Array(limit + 2);
  const iord = new Int32Array(limit + 2);
  const rlist2 = new Float64Array(56);
  const res3la = new Float64Array(4);
  let ier = 0;
  alist[1] = a;
  blist[1] = b;
  if (epsabs <= 0 && epsrel < Math.max(50 * EPMACH, 0.5e-28)) return { result: 0, abserr: 0, ier: 6, last: 0 };
  let ierro = 0;
  const first = gaussKronrod21(f, a, b);
  let result = first.result;
  let abserr = first.abserr;
  const defabs = first.resabs;
  const resasc = first.resasc; // dqagse's "resabs"
  const dres = Math.abs(result);
  let errbnd = Math.max(epsabs, epsrel * dres);
  let last = 1;
  rlist[1] = result;
  elist[1] = abserr;
  iord[1] = 1;
  if (abserr <= 100 * EPMACH * defabs && abserr > errbnd) ier = 2;
  if (limit === 1) ier = 1;
  if (ier !== 0 || (abserr <= errbnd && abserr !== resasc) || abserr === 0) return { result, abserr, ier, last };

  rlist2[1] = result;
  let errmax = abserr;
  let maxerr = 1;
  let area = result;
  let errsum = abserr;
  abserr = OFLOW;
  let nrmax = 1;
  let nres = 0;
  let numrl2 = 2;
  let ktmin = 0;
  let extrap = false;
  let noext = false;
  let iroff1 = 0;
  let iroff2 = 0;
  let iroff3 = 0;
  const ksgn = dres >= (1 - 50 * EPMACH) * defabs ? 1 : -1;
  let small = 0;
  let erlarg = 0;
  let ertest = 0;
  let correc = 0;
  let sumAll = false; // label 115 (sum of rlist) rather than label 100
  for (last = 2; last <= limit; last++) {
    const a1 = alist[maxerr]!;
    const b1 = 0.5 * (alist[maxerr]! + blist[maxerr]!);
    const a2 = b1;
    const b2 = blist[maxerr]!;
    const erlast = errmax;
    const k1 = gaussKronrod21(f, a1, b1);
    const k2 = gaussKronrod21(f, a2, b2);
    const area1 = k1.result;
    const error1 = k1.abserr;
    const defab1 = k1.resasc;
    const area2 = k2.result;
    const error2 = k2.abserr;
    const defab2 = k2.resasc;
    const area12 = area1 + area2;
    const erro12 = error1 + error2;
    errsum = errsum + erro12 - errmax;
    area = area + area12 - rlist[maxerr]!;
    if (!(defab1 === error1 || defab2 === error2)) {
      if (!(Math.abs(rlist[maxerr]! - area12) > 1e-5 * Math.abs(area12) || erro12 < 0.99 * errmax)) {
        if (extrap) iroff2++;
        else iroff1++;
      }
      if (last > 10 && erro12 > errmax) iroff3++;
    }
    rlist[maxerr] = area1;
    rlist[last] = area2;
    errbnd = Math.max(epsabs, epsrel * Math.abs(area));
    if (iroff1 + iroff2 >= 10 || iroff3 >= 20) ier = 2;
    if (iroff2 >= 5) ierro = 3;
    if (last === limit) ier = 1;
    if (Math.max(Math.abs(a1), Math.abs(b2)) <= (1 + 100 * EPMACH) * (Math.abs(a2) + 1000 * UFLOW)) ier = 4;
    if (error2 > error1) {
      alist[maxerr] = a2;
      alist[last] = a1;
      blist[last] = b1;
      rlist[maxerr] = area2;
      rlist[last] = area1;
      elist[maxerr] = error2;
      elist[last] = error1;
    } else {
      alist[last] = a2;
      blist[maxerr] = b1;
      blist[last] = b2;
      elist[maxerr] = error1;
      elist[last] = error2;
    }
    [maxerr, errmax, nrmax] = dqpsrt(limit, last, maxerr, elist, iord, nrmax);
    if (errsum <= errbnd) {
      sumAll = true;
      break;
    }
    if (ier !== 0) break;
    if (last === 2) {
      small = Math.abs(b - a) * 0.375;
      erlarg = errsum;
      ertest = errbnd;
      rlist2[2] = area;
      continue;
    }
    if (noext) continue;
    erlarg = erlarg - erlast;
    if (Math.abs(b1 - a1) > small) erlarg = erlarg + erro12;
    if (!extrap) {
      if (Math.abs(blist[maxerr]! - alist[maxerr]!) > small) continue;
      extrap = true;
      nrmax = 2;
    }
    if (!(ierro === 3 || erlarg <= ertest)) {
      const id = nrmax;
      let jupbnd = last;
      if (last > 2 + Math.trunc(limit / 2)) jupbnd = limit + 3 - last;
      let larger = false;
      for (let k = id; k <= jupbnd; k++) {
        maxerr = iord[nrmax]!;
        errmax = elist[maxerr]!;
        if (Math.abs(blist[maxerr]! - alist[maxerr]!) > small) {
          larger = true;
          break;
        }
        nrmax++;
      }
      if (larger) continue;
    }
    numrl2++;
    rlist2[numrl2] = area;
    let reseps: number;
    let abseps: number;
    [numrl2, reseps, abseps, nres] = dqelg(numrl2, rlist2, res3la, nres);
    ktmin++;
    if (ktmin > 5 && abserr < 1e-3 * errsum) ier = 5;
    if (!(abseps >= abserr)) {
      ktmin = 0;
      abserr = abseps;
      result = reseps;
      correc = erlarg;
      ertest = Math.max(epsabs, epsrel * Math.abs(reseps));
      if (abserr <= ertest) break;
    }
    if (numrl2 === 1) noext = true;
    if (ier === 5) break;
    maxerr = iord[1]!;
    errmax = elist[maxerr]!;
    nrmax = 1;
    extrap = false;
    small = small * 0.5;
    erlarg = errsum;
  }
  if (last > limit) last = limit;
  if (!sumAll) {
    // label 100
    let to: 110 | 115 | 130 = 110;
    if (abserr === OFLOW) to = 115;
    else if (ier + ierro !== 0) {
      if (ierro === 3) abserr = abserr + correc;
      if (ier === 0) ier = 3;
      if (result !== 0 && area !== 0) to = abserr / Math.abs(result) > errsum / Math.abs(area) ? 115 : 110;
      else if (abserr > errsum) to = 115;
      else if (area === 0) to = 130;
    }
    if (to === 110) {
      if (!(ksgn === -1 && Math.max(Math.abs(result), Math.abs(area)) <= defabs * 0.01)) {
        if (0.01 > result / area || result / area > 100 || errsum > Math.abs(area)) ier = 6;
      }
    }
    if (to !== 115) return { result, abserr, ier: ier > 2 ? ier - 1 : ier, last };
  }
  // label 115: the sum over the subintervals
  result = 0;
  for (let k = 1; k <= last; k++) result = result + rlist[k]!;
  return { result, abserr: errsum, ier: ier > 2 ? ier - 1 : ier, last };
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
 * `torch.linalg.solve(R, b)` in float32 for a small n x n system (UniPC order 3 solves 2x2 and 3x3 ones), bit for
 * bit as torch 1.13 + OpenBLAS: LU of M = R^T by OpenBLAS's left-looking getf2 (column j: earlier pivots applied,
 * `m_ij -= dot(L[i, :i], col[:i])` for i < j, then `m_ij -= (l_i0*col_0 + l_i1*col_1 + ...)` with the products
 * summed first (gemv), partial pivoting, multipliers scaled by the reciprocal of the pivot), then getrs with
 * trans = 'T': U^T z = b (true divisions), L^T w = z, x = P w. Dot products are summed left to right from 0.
 * Matched torch on 1,200 of 1,200 random 3x3 systems (and `solve2x2F32` on 2x2 ones); larger n is unverified.
 */
export function solveF32(R: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  if (n === 1) return [f32(f32(b[0]!) / f32(R[0]![0]!))];
  if (n === 2) return solve2x2F32(R[0]![0]!, R[0]![1]!, R[1]![0]!, R[1]![1]!, b[0]!, b[1]!);
  // M = R^T (M[i][j] = R[j][i]); rows are swapped as a whole, which applies every pivot to every column.
  const M: number[][] = [];
  for (let i = 0; i < n; i++) M.push(Array.from({ length: n }, (_, j) => f32(R[j]![i]!)));
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let j = 0; j < n; j++) {
    const col = M.map((row) => row[j]!);
    for (let i = 1; i < j; i++) {
      let d = 0;
      for (let k = 0; k < i; k++) d = f32(d + f32(M[i]![k]! * col[k]!));
      col[i] = f32(col[i]! - d);
    }
    if (j > 0) {
      for (let i = j; i < n; i++) {
        let t = f32(M[i]![0]! * col[0]!);
        for (let k = 1; k < j; k++) t = f32(t + f32(M[i]![k]! * col[k]!));
        col[i] = f32(col[i]! - t);
      }
    }
    for (let i = 0; i < n; i++) M[i]![j] = col[i]!;
    let p = j;
    for (let i = j + 1; i < n; i++) if (Math.abs(M[i]![j]!) > Math.abs(M[p]![j]!)) p = i;
    if (p !== j) {
      [M[p], M[j]] = [M[j]!, M[p]!];
      [perm[p], perm[j]] = [perm[j]!, perm[p]!];
    }
    const inv = f32(1 / M[j]![j]!);
    for (let i = j + 1; i < n; i++) M[i]![j] = f32(M[i]![j]! * inv);
  }
  // (P^T L U)^T x = b  =>  U^T z = b, L^T w = z, x[perm[i]] = w[i].
  const z = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let k = 0; k < i; k++) d = f32(d + f32(M[k]![i]! * z[k]!));
    z[i] = f32(f32(f32(b[i]!) - d) / M[i]![i]!);
  }
  const w = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let d = 0;
    for (let k = i + 1; k < n; k++) d = f32(d + f32(M[k]![i]! * w[k]!));
    w[i] = f32(z[i]! - d);
  }
  const x = new Array<number>(n);
  for (let i = 0; i < n; i++) x[perm[i]!] = w[i]!;
  return x;
}
