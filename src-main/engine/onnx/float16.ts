// IEEE 754 half precision <-> float32 through Uint16Array bit patterns (Node 20 has no Float16Array).
// float32 -> float16 rounds to nearest, ties to even, like numpy's astype(float16) and onnxruntime's Cast;
// overflow gives ±Infinity, NaN stays NaN (quiet, sign and top payload bits kept), subnormals are exact.
// float16 -> float32 is exact, through a 65,536-entry table built on first use.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float16 bit pattern of one float32 bit pattern (round to nearest even). */
function halfBitsOf(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const abs = x & 0x7fffffff;
  if (abs >= 0x7f800000) {
    // Inf, or NaN: keep it a NaN even when the payload's top bits are zero.
    return abs === 0x7f800000 ? sign | 0x7c00 : sign | 0x7e00 | ((abs >>> 13) & 0x3ff);
  }
  if (abs >= 0x477ff000) return sign | 0x7c00; // >= 65520 rounds to Infinity
  if (abs < 0x38800000) {
    // Below the smallest normal half (2^-14): a subnormal half or zero.
    const e = abs >>> 23;
    if (e < 102) return sign; // < 2^-25: rounds to zero
    const m = (abs & 0x7fffff) | 0x800000;
    const shift = 126 - e; // 14..24
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h++;
    return sign | h;
  }
  // Normal: rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits.
  const r = abs - 0x38000000;
  let h = r >>> 13;
  const rem = r & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // a carry moves into the exponent correctly
  return sign | h;
}

/** Float16 bits of a JS number (rounded to float32 first, then to half, as a float32 tensor would be). */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  return halfBitsOf(u32[0]!);
}

/** The value of one float16 bit pattern. */
export function fromFloat16Bits(bits: number): number {
  return halfTable()[bits & 0xffff]!;
}

/** float32 -> float16 bits. Writes into `out` when given (same length), else a new Uint16Array. */
export function float32ToFloat16(src: ArrayLike<number> & { readonly length: number }, out?: Uint16Array): Uint16Array {
  const n = src.length;
  const dst = out ?? new Uint16Array(n);
  if (dst.length !== n) throw new RangeError(`float32ToFloat16: output length ${dst.length} != input length ${n}`);
  if (src instanceof Float32Array) {
    const bits = new Uint32Array(src.buffer, src.byteOffset, n);
    for (let i = 0; i < n; i++) dst[i] = halfBitsOf(bits[i]!);
  } else {
    for (let i = 0; i < n; i++) {
      f32[0] = src[i]!;
      dst[i] = halfBitsOf(u32[0]!);
    }
  }
  return dst;
}

let table: Float32Array | undefined;

function halfTable(): Float32Array {
  if (table) return table;
  const t = new Float32Array(65536);
  const bits = new Uint32Array(t.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) {
      // zero or subnormal: mant * 2^-24 (exact in float32)
      t[h] = (mant * 5.960464477539063e-8) * (sign ? -1 : 1);
      if (mant === 0) bits[h] = sign; // keep -0
    } else if (exp === 0x1f) {
      bits[h] = sign | 0x7f800000 | (mant << 13);
    } else {
      bits[h] = sign | ((exp + 112) << 23) | (mant << 13);
    }
  }
  table = t;
  return t;
}

/** float16 bits -> float32. Accepts a Uint16Array (or any 16-bit view, e.g. a Float16Array's bits). */
export function float16ToFloat32(src: Uint16Array, out?: Float32Array): Float32Array {
  const n = src.length;
  const dst = out ?? new Float32Array(n);
  if (dst.length !== n) throw new RangeError(`float16ToFloat32: output length ${dst.length} != input length ${n}`);
  const t = halfTable();
  for (let i = 0; i < n; i++) dst[i] = t[src[i]!]!;
  return dst;
}
