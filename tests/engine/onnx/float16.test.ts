import { describe, expect, it } from 'vitest';
import { cpuMsPerCall } from '../../helpers/cpu-time.js';
import {
  float16ToFloat32,
  float32ToFloat16,
  fromFloat16Bits,
  toFloat16Bits,
} from '../../../src-main/engine/onnx/float16.js';

// Independent reference: the value of a half bit pattern by formula, and the nearest half (ties to even)
// by binary search over the 0x7c00 finite non-negative patterns, which are ordered like their values.
function halfValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function referenceBits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = 0x7bff;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (halfValue(mid) <= a) lo = mid;
    else hi = mid - 1;
  }
  // lo = largest half <= a; candidate lo+1 above.
  if (lo === 0x7bff) return sign | lo;
  const dLo = a - halfValue(lo);
  const dHi = halfValue(lo + 1) - a;
  if (dLo < dHi) return sign | lo;
  if (dHi < dLo) return sign | (lo + 1);
  return sign | (lo % 2 === 0 ? lo : lo + 1);
}

describe('float32 -> float16', () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [65504, 0x7bff],
    [65519, 0x7bff],
    [65520, 0x7c00],
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -14 - 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // tie between 0 and 2^-24: to even (0)
    [1.5 * 2 ** -25, 0x0001],
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 ulps: to even (2)
    [-(2 ** -24), 0x8001],
    [1e-10, 0x0000],
    [1 + 2 ** -11, 0x3c00], // tie: to even
    [1 + 3 * 2 ** -11, 0x3c02], // tie: to even (up)
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // above the tie
    [2047 / 1024 + 1 / 2048, 0x4000], // rounding carries into the exponent
    [999, 0x63ce],
  ];
  it.each(cases)('%s -> 0x%s', (x, bits) => {
    expect(toFloat16Bits(x)).toBe(bits);
    expect(float32ToFloat16(Float32Array.of(x))[0]).toBe(bits);
    expect(float32ToFloat16([x])[0]).toBe(bits);
  });

  it('NaN stays NaN (quiet), with its sign', () => {
    for (const bits of [toFloat16Bits(NaN), float32ToFloat16(Float32Array.of(NaN))[0]!]) {
      expect(bits & 0x7c00).toBe(0x7c00);
      expect(bits & 0x3ff).not.toBe(0);
      expect(Number.isNaN(fromFloat16Bits(bits))).toBe(true);
    }
    const negNan = new Float32Array(new Uint32Array([0xffc00001]).buffer);
    expect(float32ToFloat16(negNan)[0]! & 0xfe00).toBe(0xfe00);
    // A signalling NaN whose payload lives only in the low mantissa bits must not become Infinity.
    const lowPayload = new Float32Array(new Uint32Array([0x7f800001]).buffer);
    expect(Number.isNaN(fromFloat16Bits(float32ToFloat16(lowPayload)[0]!))).toBe(true);
  });

  it('matches a brute-force nearest-even reference on 200k random float32 values', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed;
    };
    const bits = new Uint32Array(200_000);
    for (let i = 0; i < bits.length; i++) {
      // Bias the exponents towards the half range (2^-26 .. 2^17) so subnormals, normals and overflow all show up.
      const exp = 101 + (rnd() % 42);
      bits[i] = ((rnd() & 1) << 31) | (exp << 23) | (rnd() & 0x7fffff);
    }
    const f = new Float32Array(bits.buffer);
    const out = float32ToFloat16(f);
    let bad = 0;
    for (let i = 0; i < f.length; i++) if (out[i] !== referenceBits(f[i]!)) bad++;
    expect(bad).toBe(0);
  });

  it('checks the output length', () => {
    expect(() => float32ToFloat16(new Float32Array(3), new Uint16Array(2))).toThrow(RangeError);
  });
});

describe('float16 -> float32', () => {
  it('is exact for every one of the 65,536 patterns, and round-trips', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f = float16ToFloat32(all);
    const back = float32ToFloat16(f);
    for (let h = 0; h < 65536; h++) {
      const v = halfValue(h);
      if (Number.isNaN(v)) {
        expect(Number.isNaN(f[h]!)).toBe(true);
        expect(Number.isNaN(fromFloat16Bits(back[h]!))).toBe(true);
      } else {
        if (f[h] !== v) throw new Error(`0x${h.toString(16)}: ${f[h]} != ${v}`);
        if (back[h] !== h) throw new Error(`round trip 0x${h.toString(16)} -> 0x${back[h]!.toString(16)}`);
      }
    }
    expect(Object.is(f[0x8000], -0)).toBe(true);
  });

  it('writes into a given buffer', () => {
    const out = new Float32Array(2);
    expect(float16ToFloat32(Uint16Array.of(0x3c00, 0xc000), out)).toBe(out);
    expect([...out]).toEqual([1, -2]);
  });

  it('converts a large tensor quickly', () => {
    const n = 4 * 128 * 128 * 2;
    const src = new Float32Array(n).map((_, i) => Math.sin(i));
    const ms = cpuMsPerCall(() => float16ToFloat32(float32ToFloat16(src)), 10);
    expect(ms).toBeLessThan(100); // CPU time (~1 ms on a laptop): a busy machine does not inflate it
  });
});
