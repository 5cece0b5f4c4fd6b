// Flat float32 tensor helpers (NCHW, batch first). Every operation rounds to float32 as torch does.
import { PipelineError } from './errors.js';

export const f32 = Math.fround;

/** x ← x·s in place (float32). */
export function scaleInPlace(x: Float32Array, s: number): Float32Array {
  const g = f32(s);
  for (let i = 0; i < x.length; i++) x[i] = f32(x[i]! * g);
  return x;
}

/**
 * Concatenates tensors along the first axis whose preceding axes all have size 1: for [1, C_i, h, w]
 * parts that is the channel axis, for [B_i, …] parts the batch axis. The result is a new array.
 */
export function concatTensors(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Throws PipelineError('non-finite') at the first NaN or ±Infinity (nothing is written then). */
export function assertFinite(x: Float32Array, what: string, step: number): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v - v !== 0) {
      throw new PipelineError(
        'non-finite',
        `The ${what} became ${Number.isNaN(v) ? 'NaN' : 'infinite'} at step ${step}: the guidance scale may be too high, or the model (fp16?) overflowed. Nothing was written.`,
      );
    }
  }
}
