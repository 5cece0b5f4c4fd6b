// Float32 Box–Muller of ATen's AVX2 `normal_fill_16_AVX2` (aten/src/ATen/native/cpu/DistributionTemplates.h),
// emulated bit for bit.
//
// torch 1.13 does NOT use SLEEF here: `normal_fill_16_AVX2` calls `log256_ps` and `sincos256_ps` from
// aten/src/ATen/native/cpu/avx_mathfun.h (Giovanni Garberoglio's AVX port of Julien Pommier's
// sse_mathfun, i.e. the cephes `logf` / `sinf` / `cosf` formulas in float32). That header is written
// with separate `_mm256_mul_ps` / `_mm256_add_ps` intrinsics, but GCC (-O2, -mavx2 -mfma, default
// -ffp-contract=fast) fuses many of those pairs into FMA instructions. Which pairs are fused was read from
// the machine code of the libtorch_cpu.so that produced the reference (Debian's torch 1.13.1 built with
// GCC 12); every `fma32` below corresponds to one vfmadd/vfnmadd/vfmsub in that code, every `fround` to
// one vmulps/vaddps/vsubps/vsqrtps. The results were checked bit-exactly against that torch.
// (In `normalFillBlocksAvx2` each of those FMAs is written `fr(a * b + c)`; see there for why that is
// exact for every input this function can get.)
//
// Every value here is a float32 held in a JS number; `Math.fround` after a single +, -, *, sqrt of two
// float32 values gives the correctly rounded float32 result (double rounding is harmless for these when
// the intermediate has 53 >= 2*24+2 bits). A fused multiply-add needs care: see `fma32`.

const fround = Math.fround;

/**
 * float32 fused multiply-add `round32(a*b + c)` with a single rounding, for float32 inputs.
 *
 * a*b is exact in float64 (48 significant bits). s = fl64(a*b + c) can differ from the exact sum, and
 * rounding s to float32 then gives the correctly rounded result unless s lies exactly halfway between two
 * float32 values (any other float32 midpoint between the exact sum and s would be a double nearer the
 * exact sum than s). Only in that tie case do we look at the exact rounding error of the sum (TwoSum) to
 * decide which neighbour the exact value is closer to.
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = fround(s);
  const d = s - r;
  if (d === 0) return r;
  // If s is a tie, the float32 on its other side is r + 2d (computed exactly).
  const other = r + 2 * d;
  if (fround(other) !== other) return r;
  const bv = s - p;
  const err = p - (s - bv) + (c - bv);
  if (err === 0) return r; // a genuine tie: fround already rounded it to even
  return err > 0 === other > r ? other : r;
}

// ---- constants of avx_mathfun.h, as the float32 values the compiled code loads ----
const SQRTHF = fround(0.707106781186547524);
const LOG_P0 = fround(7.0376836292e-2);
const LOG_P1 = fround(-1.151461031e-1);
const LOG_P2 = fround(1.167699874e-1);
const LOG_P3 = fround(-1.2420140846e-1);
const LOG_P4 = fround(1.4249322787e-1);
const LOG_P5 = fround(-1.6668057665e-1);
const LOG_P6 = fround(2.0000714765e-1);
const LOG_P7 = fround(-2.4999993993e-1);
const LOG_P8 = fround(3.3333331174e-1);
const LOG_Q1 = fround(-2.1219444e-4);
const LOG_Q2 = fround(0.693359375);

const MINUS_DP1 = fround(-0.78515625);
const MINUS_DP2 = fround(-2.4187564849853515625e-4);
const MINUS_DP3 = fround(-3.77489497744594108e-8);
const SINCOF_P0 = fround(-1.9515295891e-4);
const SINCOF_P1 = fround(8.3321608736e-3);
const SINCOF_P2 = fround(-1.6666654611e-1);
const COSCOF_P0 = fround(2.443315711809948e-5);
const COSCOF_P1 = fround(-1.388731625493765e-3);
const COSCOF_P2 = fround(4.166664568298827e-2);
const FOPI = fround(1.27323954473516); // 4 / pi

/** `_mm256_set1_ps(2.0f * c10::pi<double>)`: the double 2*pi rounded to float32. */
const TWO_PI = fround(2 * Math.PI);

const TWO_POW_24 = 16777216;
const TWO_POW_M32 = 2.3283064365386963e-10;

/**
 * `x < SQRTHF` for the mantissa x = m * 2^-32 (m = n << clz32(n) read as uint32) is `m < SQRTHF * 2^32`
 * (an integer: SQRTHF is a float32 in [0.5, 1)); this is that bound for m read as a (negative) int32.
 */
const SQRTHF_M32 = SQRTHF * 4294967296 - 4294967296;

/** `x - 1` is scaled by this for f = 0 / 1 (the `x < SQRTHF` case of log256_ps; see below). */
const X_SCALE = new Float64Array([1, 2]);

/**
 * The exponent terms of log256_ps by `lz + f` (clz32(n) plus the SQRTHF adjustment, 7 ..= 32), where the
 * exponent is e = 8 - (lz + f): `fr(e * LOG_Q1)` and `e * LOG_Q2` (exact: 6 bits times 9 bits).
 */
const LOG_E_Q1 = new Float64Array(33);
const LOG_E_Q2 = new Float64Array(33);
for (let k = 0; k <= 32; k++) {
  LOG_E_Q1[k] = fround((8 - k) * LOG_Q1);
  LOG_E_Q2[k] = (8 - k) * LOG_Q2;
}

// Octant handling of sincos256_ps as exact weights, indexed by q >> 1 (q in {0, 2, 4, 6, 8}): the cosine
// output is c * COS_C + s * COS_S and the sine output c * SIN_C + s * SIN_S. (q & 2 swaps the two
// polynomials; sin flips sign when (q & 4), cos when ((q - 2) & 4) == 0.)
const COS_C = new Float64Array([1, 0, -1, 0, 1]);
const COS_S = new Float64Array([0, -1, 0, 1, 0]);
const SIN_C = new Float64Array([0, 1, 0, -1, 0]);
const SIN_S = new Float64Array([1, 0, -1, 0, 1]);

/** Lanes (pairs of outputs) per pass of `normalFillBlocksAvx2`; its scratch arrays hold one pass. */
const LANES = 256;
const scratchX = new Float64Array(LANES);
const scratchEQ1 = new Float64Array(LANES);
const scratchEQ2 = new Float64Array(LANES);
const scratchY = new Float64Array(LANES);
const scratchR = new Float64Array(LANES);
const scratchZ = new Float64Array(LANES);
const scratchRadius = new Float64Array(LANES);
const scratchQ = new Int32Array(LANES);

/**
 * One `normal_fill_16_AVX2(data + offset, ...)` with mean 0 and std 1: `data[offset .. offset+16)` holds
 * 24-bit uniforms in [0, 1) on entry and standard normals on exit. Lane j uses u1 = 1 - data[offset+j]
 * for the radius and u2 = data[offset+8+j] for the angle; the cosine half goes to offset+j, the sine
 * half to offset+8+j.
 */
export function normalFill16Avx2(data: Float32Array, offset: number): void {
  normalFillBlocksAvx2(data, offset, offset + 16);
}

/**
 * `normalFill16Avx2` on every block of 16 in `data[start .. end)` (`end - start` a multiple of 16, the
 * uniforms must be multiples of 2^-24 in [0, 1) as `MT19937.fillUniform24` writes them).
 *
 * This is the hot loop of every stochastic sampler step, so it is written for speed; every shortcut
 * below was verified bit for bit against the straightforward `fma32` formulation over ALL inputs (each
 * lane is a function of two 24-bit integers: the radius of k1 = u1 * 2^24, the angle of k2 = u2 * 2^24,
 * so all 2^24 radii and all 2^24 (cos, sin) pairs were compared, the latter with radii of exactly 1
 * and 2 so the outputs are the bare polynomials):
 * - Every FMA is computed as `fr(a * b + c)`. That is not a correct float32 FMA in general (`fma32`),
 *   but at each call site the float64 sum never lands on a float32 midpoint without being exact, for
 *   any of the 2^24 possible inputs of the lane, so the two agree everywhere here.
 * - `fr(zz * 0.5)` and `fr(log * -2)` are exact scalings of normal float32 values, so the fround is
 *   dropped; the final products are stored straight into the Float32Array (which rounds them once).
 * - `x` after the `x < SQRTHF` adjustment is exact without rounding, and the exponent terms
 *   `fr(e * LOG_Q1)`, `e * LOG_Q2` come from 33-entry tables (`LOG_E_Q1`, `LOG_E_Q2`).
 * - No data-dependent branches: the `x < SQRTHF` test and the octant selection use integer tricks,
 *   small tables and exact multiplications by 0 / +-1, so the lanes pipeline without branch
 *   mispredictions (a `?:` there measured ~15% slower on fresh random data).
 * - The lanes are processed in passes of `LANES` and each pass runs the formulas in four separate
 *   loops (log start, angle reduction, log end + sqrt, sin/cos polynomials + output) through small
 *   scratch arrays: each loop iteration is a short, independent dependency chain, so the CPU overlaps
 *   many lanes instead of waiting on one long chain of float32 roundings per lane.
 * - Module constants are copied into locals first: a module-level binding is re-read and re-checked
 *   on every use inside an optimised loop.
 */
export function normalFillBlocksAvx2(data: Float32Array, start: number, end: number): void {
  const fr = Math.fround;
  const clz32 = Math.clz32;
  const sqrt = Math.sqrt;
  const X = scratchX;
  const EQ1 = scratchEQ1;
  const EQ2 = scratchEQ2;
  const logEQ1 = LOG_E_Q1;
  const logEQ2 = LOG_E_Q2;
  const xScale = X_SCALE;
  const Y = scratchY;
  const R = scratchR;
  const Z = scratchZ;
  const RADIUS = scratchRadius;
  const Q = scratchQ;
  const cosC = COS_C;
  const cosS = COS_S;
  const sinC = SIN_C;
  const sinS = SIN_S;
  const two24 = TWO_POW_24;
  const twoM32 = TWO_POW_M32;
  const sqrthfM32 = SQRTHF_M32 | 0;
  const p0 = LOG_P0;
  const p1 = LOG_P1;
  const p2 = LOG_P2;
  const p3 = LOG_P3;
  const p4 = LOG_P4;
  const p5 = LOG_P5;
  const p6 = LOG_P6;
  const p7 = LOG_P7;
  const p8 = LOG_P8;
  const twoPi = TWO_PI;
  const fopi = FOPI;
  const dp1 = MINUS_DP1;
  const dp2 = MINUS_DP2;
  const dp3 = MINUS_DP3;
  const cp0 = COSCOF_P0;
  const cp1 = COSCOF_P1;
  const cp2 = COSCOF_P2;
  const sp0 = SINCOF_P0;
  const sp1 = SINCOF_P1;
  const sp2 = SINCOF_P2;

  for (let base = start; base < end; base += 2 * LANES) {
    const lanes = Math.min(LANES, (end - base) >> 1);
    // Lane L of this pass is element j = L % 8 of block L >> 3: data index base + 16 * (L >> 3) + j
    // for u1 (and the cosine output), 8 more for u2 (and the sine output).

    // ---- log256_ps(1 - u1), first half ----
    for (let L = 0; L < lanes; L++) {
      const i = base + L + ((L >> 3) << 3);
      // u1 is k * 2^-24, so 1 - u1 is the float32 n * 2^-24 with the integer n = 2^24 - k in [1, 2^24].
      const n = (two24 - data[i]! * two24) | 0;
      // log256_ps: exponent e = (bits >> 23) - 127 + 1, mantissa x in [0.5, 1); if x < SQRTHF (f = 1)
      // then e -= 1 and x = (x - 1) + x, else x = x - 1. Both are exact float32 values (x - 1 in
      // [-0.5, 0) and 2x - 1 in [0, 0.42) are multiples of 2^-25 and 2^-23), so no rounding is needed.
      const lz = clz32(n);
      const m = n << lz; // mantissa in the top bits, as an int32: x = 1 + m * 2^-32
      const f = (m - sqrthfM32) >>> 31;
      EQ1[L] = logEQ1[lz + f]!;
      EQ2[L] = logEQ2[lz + f]!;
      const xm1 = m * twoM32; // x - 1, exact
      const x = xm1 * xScale[f]! + f; // (x - 1) or (x - 1) * 2 + 1, without a branch
      X[L] = x;
      let y = fr(p0 * x + p1);
      y = fr(y * x + p2);
      y = fr(y * x + p3);
      Y[L] = fr(y * x + p4);
    }

    // ---- sincos256_ps(theta), theta = 2pi * u2 >= 0 (no sign to strip): range reduction ----
    for (let L = 0; L < lanes; L++) {
      const theta = fr(twoPi * data[base + L + ((L >> 3) << 3) + 8]!);
      const q = ((fr(theta * fopi) | 0) + 1) & ~1; // cvttps2dq (positive: truncation), then (j+1) & ~1
      Q[L] = q;
      let r = fr(q * dp1 + theta);
      r = fr(q * dp2 + r);
      r = fr(q * dp3 + r);
      R[L] = r;
      Z[L] = fr(r * r);
    }

    // ---- log256_ps, second half; radius = sqrt(-2 * log) ----
    for (let L = 0; L < lanes; L++) {
      const x = X[L]!;
      let y = fr(Y[L]! * x + p5);
      y = fr(y * x + p6);
      y = fr(y * x + p7);
      y = fr(y * x + p8);
      const z = fr(x * x);
      y = fr(y * x);
      y = fr(y * z + EQ1[L]!);
      y = fr(-z * 0.5 + y);
      const log = fr(EQ2[L]! + fr(x + y));
      RADIUS[L] = fr(sqrt(log * -2));
    }

    // ---- sin / cos polynomials (0 <= |r| <= pi/4), octant selection, output ----
    for (let L = 0; L < lanes; L++) {
      const zz = Z[L]!;
      const r = R[L]!;
      let c = fr(zz * cp0 + cp1);
      let s = fr(sp0 * zz + sp1);
      c = fr(zz * c + cp2);
      s = fr(zz * s + sp2);
      c = fr(zz * c);
      s = fr(zz * s);
      c = fr(c * zz - zz * 0.5);
      s = fr(s * r + r);
      c = fr(c + 1);
      const t = Q[L]! >> 1;
      const radius = RADIUS[L]!;
      // n * std + mean with std = 1, mean = 0: the product rounded once (by the Float32Array store);
      // the selections are exact (one term is +-0), and `+ 0` turns -0 into +0 as the FMA does.
      const i = base + L + ((L >> 3) << 3);
      data[i] = radius * (c * cosC[t]! + s * cosS[t]!) + 0;
      data[i + 8] = radius * (c * sinC[t]! + s * sinS[t]!) + 0;
    }
  }
}
