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

/** 2^(lz - 32) for lz = clz32(n), n in [1, 2^24]: scales n * 2^-24 into [0.5, 1). */
const MANTISSA_SCALE: Float64Array = (() => {
  const t = new Float64Array(33);
  for (let lz = 0; lz <= 32; lz++) t[lz] = 2 ** (lz - 32);
  return t;
})();

/**
 * One `normal_fill_16_AVX2(data + offset, ...)` with mean 0 and std 1: `data[offset .. offset+16)` holds
 * 24-bit uniforms in [0, 1) on entry and standard normals on exit. Lane j uses u1 = 1 - data[offset+j]
 * for the radius and u2 = data[offset+8+j] for the angle; the cosine half goes to offset+j, the sine
 * half to offset+8+j.
 */
export function normalFill16Avx2(data: Float32Array, offset: number): void {
  for (let j = 0; j < 8; j++) {
    // ---- radius = sqrt(-2 * log256_ps(1 - u)) ----
    // u is k * 2^-24, so 1 - u is the float32 n * 2^-24 with the integer n = 2^24 - k in [1, 2^24].
    const n = TWO_POW_24 - data[offset + j]! * TWO_POW_24;
    const lz = Math.clz32(n);
    // log256_ps: exponent e = (bits >> 23) - 127 + 1, mantissa x in [0.5, 1).
    let e = 8 - lz;
    let x = n * MANTISSA_SCALE[lz]!;
    if (x < SQRTHF) {
      e -= 1;
      x = fround(fround(x - 1) + x);
    } else {
      x = fround(x - 1);
    }
    let y = fma32(LOG_P0, x, LOG_P1);
    y = fma32(y, x, LOG_P2);
    y = fma32(y, x, LOG_P3);
    y = fma32(y, x, LOG_P4);
    y = fma32(y, x, LOG_P5);
    y = fma32(y, x, LOG_P6);
    y = fma32(y, x, LOG_P7);
    y = fma32(y, x, LOG_P8);
    const z = fround(x * x);
    y = fround(y * x);
    y = fma32(y, z, fround(e * LOG_Q1));
    y = fma32(-z, 0.5, y);
    x = fround(x + y);
    const log = fma32(e, LOG_Q2, x);
    const radius = fround(Math.sqrt(fround(log * -2)));

    // ---- theta = 2pi * u2; sincos256_ps(theta) ----
    const theta = fround(TWO_PI * data[offset + 8 + j]!); // >= 0: no sign to strip
    let q = Math.trunc(fround(theta * FOPI)) | 0; // cvttps2dq
    q = (q + 1) & ~1;
    const qf = q; // cvtdq2ps: small integer, exact
    let r = fma32(qf, MINUS_DP1, theta);
    r = fma32(qf, MINUS_DP2, r);
    r = fma32(qf, MINUS_DP3, r);
    const zz = fround(r * r);

    // cosine polynomial (0 <= r <= pi/4)
    let c = fma32(zz, COSCOF_P0, COSCOF_P1);
    c = fma32(zz, c, COSCOF_P2);
    c = fround(zz * c);
    c = fma32(c, zz, -fround(zz * 0.5));
    c = fround(c + 1);
    // sine polynomial
    let s = fma32(SINCOF_P0, zz, SINCOF_P1);
    s = fma32(zz, s, SINCOF_P2);
    s = fround(zz * s);
    s = fma32(s, r, r);

    // Select by (q & 2), then fix signs: sin flips when (q & 4), cos when ((q - 2) & 4) == 0.
    // (Signed zeros do not matter: the final `n * std + mean` FMA turns -0 into +0.)
    let sinV: number;
    let cosV: number;
    if ((q & 2) === 0) {
      sinV = s;
      cosV = c;
    } else {
      sinV = c;
      cosV = s;
    }
    if ((q & 4) !== 0) sinV = -sinV;
    if (((q - 2) & 4) === 0) cosV = -cosV;

    // n * std + mean with std = 1, mean = 0 is exact; `+ 0` turns -0 into +0 as the FMA does.
    data[offset + j] = fround(radius * cosV) + 0;
    data[offset + 8 + j] = fround(radius * sinV) + 0;
  }
}
