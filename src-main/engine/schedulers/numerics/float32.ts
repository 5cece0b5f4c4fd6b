// float32 arithmetic on JS numbers: torch/numpy float32 scalars are plain numbers rounded after every op.

/** Round to float32 (torch float32 semantics for one op). */
export const f32 = Math.fround;

/** float32 sqrt (torch `x ** 0.5` / `.sqrt()` on a float32 tensor or 0-d tensor): correctly rounded. */
export function sqrt32(x: number): number {
  return Math.fround(Math.sqrt(x));
}

/** Correctly rounded float32 fused multiply-add `a*b + c` (a, b, c float32), as C's fmaf. */
export function fmaf32(a: number, b: number, c: number): number {
  const p = a * b; // exact: two float32 mantissas fit in a float64
  const s = p + c;
  // TwoSum error term: s + e == p + c exactly.
  const bb = s - p;
  const e = p - (s - bb) + (c - bb);
  const r = f32(s);
  if (e === 0 || r === s) return r;
  // s lies strictly between float32 neighbours; the double rounding only matters at an exact tie.
  const other = nextF32Toward(r, s);
  const d1 = Math.abs(s - r);
  const d2 = Math.abs(other - s);
  if (d1 !== d2) return r;
  // exact tie in float64: the true value p + c = s + e decides.
  const towardOther = (other > r) === (e > 0);
  return towardOther ? other : r;
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
/** The float32 next to float32 `x` in the direction of `target`. */
function nextF32Toward(x: number, target: number): number {
  if (target === x) return x;
  if (x === 0) return target > 0 ? 1.401298464324817e-45 : -1.401298464324817e-45;
  f32buf[0] = x;
  const up = target > x;
  if ((x > 0) === up) u32buf[0] += 1;
  else u32buf[0] -= 1;
  return f32buf[0]!;
}
