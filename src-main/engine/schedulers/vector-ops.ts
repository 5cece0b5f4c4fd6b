// Elementwise float32 operations on flat NCHW samples, each op rounded in the order torch evaluates it.

import { sqrt32 } from './numerics/float32.js';
import type { NoiseSource } from './types.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

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
