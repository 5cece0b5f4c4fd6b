import { describe, expect, it } from 'vitest';
import { fma32, normalFill16Avx2 } from '../../../src-main/engine/random/box-muller-avx2.js';

const f = Math.fround;

describe('fma32 (float32 fused multiply-add, one rounding)', () => {
  it('is exact where a*b + c is a float32', () => {
    expect(fma32(f(1.5), f(2), f(0.25))).toBe(3.25);
    expect(fma32(f(-3), f(0.5), f(1.5))).toBe(0);
  });

  it('rounds the exact sum once, even when the float64 sum lands on a float32 tie', () => {
    // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 lies exactly halfway between two float32 values (ulp 2^-23).
    const a = f(1 + 2 ** -12);
    const tie = 1 + 2 ** -11 + 2 ** -24;
    expect(a * a).toBe(tie);
    const down = 1 + 2 ** -11; // the even neighbour
    const up = 1 + 2 ** -11 + 2 ** -23;
    // A tiny addend is lost in the float64 sum, but decides the float32 rounding of the exact value.
    expect(Math.fround(a * a + 2 ** -80)).toBe(down); // the naive emulation is wrong here
    expect(fma32(a, a, f(2 ** -80))).toBe(up);
    expect(fma32(a, a, f(-(2 ** -80)))).toBe(down);
    expect(fma32(a, a, 0)).toBe(down); // a true tie rounds to even
    expect(fma32(-a, a, f(-(2 ** -80)))).toBe(-up);
  });

  it('agrees with fround(a*b + c) whenever that float64 sum is exact', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    for (let i = 0; i < 2000; i++) {
      const a = f(rnd() * 4 - 2);
      const b = f(rnd() * 4 - 2);
      const c = f(rnd() * 4 - 2);
      const p = a * b;
      const s = p + c;
      // TwoSum: the float64 sum is exact when its rounding error is zero.
      const bv = s - p;
      if (p - (s - bv) + (c - bv) === 0) expect(fma32(a, b, c)).toBe(f(s));
    }
  });
});

describe('normalFill16Avx2', () => {
  it('maps u = 0 (u1 = 1) to a zero radius and u2 = 0 to theta = 0, with +0 results', () => {
    const data = new Float32Array(16); // all uniforms 0
    normalFill16Avx2(data, 0);
    for (const v of data) expect(Object.is(v, 0)).toBe(true);
  });

  it('gives finite standard-normal-sized values for extreme uniforms', () => {
    const data = new Float32Array(16);
    for (let j = 0; j < 16; j++) data[j] = f(1 - 2 ** -24); // u1 = 2^-24, theta just below 2 pi
    normalFill16Avx2(data, 0);
    const radius = Math.sqrt(-2 * Math.log(2 ** -24));
    for (let j = 0; j < 8; j++) {
      expect(Math.abs(data[j]! - radius * Math.cos(2 * Math.PI * (1 - 2 ** -24)))).toBeLessThan(1e-5);
      expect(Math.abs(data[j + 8]! - radius * Math.sin(2 * Math.PI * (1 - 2 ** -24)))).toBeLessThan(1e-5);
    }
  });

  // torch's own float32 formulas (float32 theta, cephes polynomials) sit up to ~1.9e-6 from exact math
  // (measured over 7.9M values), so this sanity check allows 3e-6; bit-exactness is tested against torch.
  it('stays within 3e-6 (absolute) of float64 Box-Muller over a grid of uniforms', () => {
    const data = new Float32Array(16);
    let worst = 0;
    for (let t = 0; t < 4096; t++) {
      for (let j = 0; j < 8; j++) {
        data[j] = ((t * 4099 + j * 524287) % 16777216) / 16777216;
        data[j + 8] = ((t * 40961 + j * 1048573 + 7) % 16777216) / 16777216;
      }
      const u1 = Array.from(data.subarray(0, 8), (u) => 1 - u);
      const u2 = Array.from(data.subarray(8, 16));
      normalFill16Avx2(data, 0);
      for (let j = 0; j < 8; j++) {
        const r = Math.sqrt(-2 * Math.log(u1[j]!));
        const th = 2 * Math.PI * u2[j]!;
        worst = Math.max(worst, Math.abs(data[j]! - r * Math.cos(th)), Math.abs(data[j + 8]! - r * Math.sin(th)));
      }
    }
    expect(worst).toBeLessThan(3e-6);
  });
});
