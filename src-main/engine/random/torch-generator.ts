// `torch.randn(shape, generator=torch.Generator().manual_seed(seed))` on an x86-64 CPU (torch 1.13,
// AVX2 kernels), float32, bit for bit — including successive draws from one generator.
//
// What torch does (aten/src/ATen/native/cpu/DistributionTemplates.h `normal_kernel`, CPUGeneratorImpl):
// - manual_seed(seed) seeds mt19937 with the low 32 bits of the 64-bit seed, and clears the cached normal.
// - numel >= 16 (contiguous float32): `normal_fill_AVX2`. First one 24-bit uniform per element
//   (one 32-bit draw each), then Box–Muller on each block of 16 (u1 = 1 - data[j] for the radius,
//   u2 = data[j+8] for the angle; cos half -> j, sin half -> j+8). If numel % 16 != 0, 16 fresh uniforms
//   are drawn into the LAST 16 slots and that block is recomputed. The cached normal is untouched.
// - numel < 16: element by element `at::normal_distribution<double>`: returns the generator's cached
//   double normal if there is one (and clears it); otherwise draws u1, u2 as 53-bit doubles (two 32-bit
//   draws each, the first one the high word), r = sqrt(-2 log(1 - u2)), theta = 2 pi u1, caches r sin(theta)
//   and returns r cos(theta). Each value is then rounded to float32.

import type { NoiseSource } from '../schedulers/types.js';
import { MT19937 } from './mt19937.js';
import { normalFillBlocksAvx2 } from './box-muller-avx2.js';

/** The largest seed torch accepts: 2^64 - 1. */
export const MAX_TORCH_SEED = (1n << 64n) - 1n;

const TWO_POW_32 = 4294967296;
const TWO_POW_M53 = 1.1102230246251565e-16;
/** `2.0 * c10::pi<double>` */
const TWO_PI_DOUBLE = 2 * Math.PI;

/** Seed forms accepted: a non-negative integer number, or a bigint, up to 2^64 - 1. */
export type TorchSeed = number | bigint;

/** Checks a seed the way torch.Generator.manual_seed takes it (0 .. 2^64-1) and returns it as a bigint. */
export function normalizeTorchSeed(seed: TorchSeed): bigint {
  if (typeof seed === 'bigint') {
    if (seed < 0n) throw new RangeError(`TorchGenerator: seed must be >= 0, got ${seed}`);
    if (seed > MAX_TORCH_SEED) throw new RangeError(`TorchGenerator: seed must be <= 2^64-1, got ${seed}`);
    return seed;
  }
  if (typeof seed !== 'number') {
    throw new TypeError(`TorchGenerator: seed must be a number or a bigint, got ${typeof seed}`);
  }
  if (!Number.isFinite(seed) || !Number.isInteger(seed)) {
    throw new RangeError(`TorchGenerator: seed must be an integer, got ${seed}`);
  }
  if (seed < 0) throw new RangeError(`TorchGenerator: seed must be >= 0, got ${seed}`);
  // Integer-valued numbers above 2^53 are exact as doubles; above 2^64-1 they are out of range.
  const big = BigInt(seed);
  if (big > MAX_TORCH_SEED) throw new RangeError(`TorchGenerator: seed must be <= 2^64-1, got ${seed}`);
  return big;
}

/** Number of elements of a shape; every dimension must be a non-negative integer. */
export function shapeNumel(shape: readonly number[]): number {
  let numel = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`TorchGenerator: shape dimensions must be non-negative integers, got [${shape.join(', ')}]`);
    }
    numel *= d;
  }
  if (!Number.isSafeInteger(numel)) throw new RangeError(`TorchGenerator: shape [${shape.join(', ')}] is too large`);
  return numel;
}

/**
 * A CPU `torch.Generator` seeded with `manual_seed(seed)`. `randn(shape)` returns the float32 values of
 * `torch.randn(shape, generator=g)` in row-major order and advances the generator as torch does, so a
 * sequence of draws matches a sequence of torch.randn calls on one generator.
 */
export class TorchGenerator implements NoiseSource {
  private engine: MT19937;
  private seedValue: bigint;
  /** torch's `next_double_normal_sample`: the sine half left over by the scalar (numel < 16) path. */
  private cachedNormal: number | null = null;

  constructor(seed: TorchSeed) {
    this.seedValue = normalizeTorchSeed(seed);
    this.engine = new MT19937(Number(this.seedValue & 0xffffffffn));
  }

  /** The seed last given to the constructor or `manualSeed` (torch's `initial_seed()`). */
  get initialSeed(): bigint {
    return this.seedValue;
  }

  /** Reseeds in place, like `generator.manual_seed(seed)`; returns this. */
  manualSeed(seed: TorchSeed): this {
    this.seedValue = normalizeTorchSeed(seed);
    this.engine = new MT19937(Number(this.seedValue & 0xffffffffn));
    this.cachedNormal = null;
    return this;
  }

  /** An independent generator in the same state (like `torch.Generator().set_state(g.get_state())`). */
  clone(): TorchGenerator {
    const copy = new TorchGenerator(0);
    copy.engine = this.engine.clone();
    copy.seedValue = this.seedValue;
    copy.cachedNormal = this.cachedNormal;
    return copy;
  }

  /** `torch.randn(shape, generator=this)` as float32, row-major. */
  randn(shape: readonly number[]): Float32Array {
    const numel = shapeNumel(shape);
    const out = new Float32Array(numel);
    this.fillRandn(out);
    return out;
  }

  /** Fills `out` as `torch.randn(out.length, generator=this)` would (in place, no allocation). */
  fillRandn(out: Float32Array): Float32Array {
    const numel = out.length;
    if (numel >= 16) this.fillVectorized(out, numel);
    else this.fillScalar(out, numel);
    return out;
  }

  private fillVectorized(data: Float32Array, size: number): void {
    const engine = this.engine;
    engine.fillUniform24(data, 0, size);
    normalFillBlocksAvx2(data, 0, size - (size % 16));
    if (size % 16 !== 0) {
      engine.fillUniform24(data, size - 16, 16);
      normalFillBlocksAvx2(data, size - 16, size);
    }
  }

  /** A uniform double in [0, 1) from two 32-bit draws: `((hi << 32 | lo) & (2^53 - 1)) * 2^-53`. */
  private uniformDouble(): number {
    const hi = this.engine.nextUint32();
    const lo = this.engine.nextUint32();
    return ((hi & 0x1fffff) * TWO_POW_32 + lo) * TWO_POW_M53;
  }

  private fillScalar(data: Float32Array, size: number): void {
    for (let i = 0; i < size; i++) {
      if (this.cachedNormal !== null) {
        data[i] = this.cachedNormal;
        this.cachedNormal = null;
        continue;
      }
      const u1 = this.uniformDouble();
      const u2 = this.uniformDouble();
      const r = Math.sqrt(-2 * Math.log(1 - u2));
      const theta = TWO_PI_DOUBLE * u1;
      this.cachedNormal = r * Math.sin(theta);
      data[i] = r * Math.cos(theta);
    }
  }
}
