// torch (CPU, AVX2 build) float32 tensor builders as diffusers' noise schedules call them, bit for bit.

import { f32, fmaf32 } from './float32.js';

/**
 * `torch.linspace(start, end, steps, dtype=float32)` on the CPU (AVX2 build), bit-exact: step is computed in
 * float32, values come in blocks of 16 (two vectors of 8 whose base is an FMA from the nearer end), the tail
 * element-wise from the nearer end. Matches all 1000 SD betas of the reference table.
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 0) return out;
  const s = f32(start);
  const e = f32(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f32(f32(e - s) / f32(steps - 1));
  const halfway = Math.trunc(steps / 2);
  const scalarAt = (i: number): number => (i < halfway ? fmaf32(step, i, s) : fmaf32(-step, steps - i - 1, e));
  const VEC = 8;
  const vecEnd = Math.floor(steps / (2 * VEC)) * 2 * VEC;
  for (let idx = 0; idx < vecEnd; idx += VEC) {
    const base = scalarAt(idx);
    for (let k = 0; k < VEC; k++) out[idx + k] = f32(base + f32(k * step));
  }
  for (let i = vecEnd; i < steps; i++) out[i] = scalarAt(i);
  return out;
}

/** `torch.cumprod` of a float32 tensor on the CPU: accumulates in float64, stores float32 partial products. */
export function cumprodF32(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i]!;
    out[i] = acc;
  }
  return out;
}
