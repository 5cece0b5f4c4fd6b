// `torch.linalg.solve` in float32 for the small systems of UniPC, bit for bit as torch 1.13 + OpenBLAS on the CPU.

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

/**
 * `torch.linalg.solve(R, b)` for a 2x2 float32 system, bit for bit as torch 1.13 on the CPU (OpenBLAS) does it:
 * torch factors `R^T` (the row-major input seen as column-major), LU with partial pivoting, the multiplier
 * `l = m10 * (1 / m00)` (getf2 scales by the reciprocal), then solves `(R^T)^T x = b` with the transposed
 * triangular solves (true divisions) and applies the row swap at the end. Matched 4000/4000 random systems.
 * R = [[r00, r01], [r10, r11]] row-major. Returns [x0, x1].
 */
export function solve2x2F32(r00: number, r01: number, r10: number, r11: number, b0: number, b1: number): [number, number] {
  // M = R^T (column-major view of the row-major R).
  let m00 = f32(r00);
  let m01 = f32(r10);
  let m10 = f32(r01);
  let m11 = f32(r11);
  const swap = Math.abs(m10) > Math.abs(m00);
  if (swap) {
    [m00, m10] = [m10, m00];
    [m01, m11] = [m11, m01];
  }
  const l = f32(m10 * f32(1 / m00));
  const u11 = f32(m11 - f32(l * m01));
  // Solve U^T z = b, then L^T w = z, then x = P w.
  const z0 = f32(f32(b0) / m00);
  const z1 = f32(f32(f32(b1) - f32(m01 * z0)) / u11);
  const w1 = z1;
  const w0 = f32(z0 - f32(l * w1));
  return swap ? [w1, w0] : [w0, w1];
}

/**
 * `torch.linalg.solve(R, b)` for a 2x2 float32 R that is **not contiguous** (UniPC's predictor passes the slice
 * `R[:-1, :-1]`): torch then factors R itself (no transpose trick) and solves with trans = 'N': LU with partial
 * pivoting and the reciprocal-scaled multiplier, L y = P b, U x = y with true divisions. Matched 1500/1500
 * random systems.
 */
export function solve2x2F32Strided(r00: number, r01: number, r10: number, r11: number, b0: number, b1: number): [number, number] {
  let a00 = f32(r00);
  let a01 = f32(r01);
  let a10 = f32(r10);
  let a11 = f32(r11);
  let c0 = f32(b0);
  let c1 = f32(b1);
  if (Math.abs(a10) > Math.abs(a00)) {
    [a00, a10] = [a10, a00];
    [a01, a11] = [a11, a01];
    [c0, c1] = [c1, c0];
  }
  const l = f32(a10 * f32(1 / a00));
  const u11 = f32(a11 - f32(l * a01));
  const y1 = f32(c1 - f32(l * c0));
  const x1 = f32(y1 / u11);
  const x0 = f32(f32(c0 - f32(a01 * x1)) / a00);
  return [x0, x1];
}

/**
 * `torch.linalg.solve(R, b)` in float32 for a small n x n system (UniPC order 3 solves 2x2 and 3x3 ones), bit for
 * bit as torch 1.13 + OpenBLAS: LU of M = R^T by OpenBLAS's left-looking getf2 (column j: earlier pivots applied,
 * `m_ij -= dot(L[i, :i], col[:i])` for i < j, then `m_ij -= (l_i0*col_0 + l_i1*col_1 + ...)` with the products
 * summed first (gemv), partial pivoting, multipliers scaled by the reciprocal of the pivot), then getrs with
 * trans = 'T': U^T z = b (true divisions), L^T w = z, x = P w. Dot products are summed left to right from 0.
 * Matched torch on 1,200 of 1,200 random 3x3 systems (and `solve2x2F32` on 2x2 ones); larger n is unverified.
 */
export function solveF32(R: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  if (n === 1) return [f32(f32(b[0]!) / f32(R[0]![0]!))];
  if (n === 2) return solve2x2F32(R[0]![0]!, R[0]![1]!, R[1]![0]!, R[1]![1]!, b[0]!, b[1]!);
  // M = R^T (M[i][j] = R[j][i]); rows are swapped as a whole, which applies every pivot to every column.
  const M: number[][] = [];
  for (let i = 0; i < n; i++) M.push(Array.from({ length: n }, (_, j) => f32(R[j]![i]!)));
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let j = 0; j < n; j++) {
    const col = M.map((row) => row[j]!);
    for (let i = 1; i < j; i++) {
      let d = 0;
      for (let k = 0; k < i; k++) d = f32(d + f32(M[i]![k]! * col[k]!));
      col[i] = f32(col[i]! - d);
    }
    if (j > 0) {
      for (let i = j; i < n; i++) {
        let t = f32(M[i]![0]! * col[0]!);
        for (let k = 1; k < j; k++) t = f32(t + f32(M[i]![k]! * col[k]!));
        col[i] = f32(col[i]! - t);
      }
    }
    for (let i = 0; i < n; i++) M[i]![j] = col[i]!;
    let p = j;
    for (let i = j + 1; i < n; i++) if (Math.abs(M[i]![j]!) > Math.abs(M[p]![j]!)) p = i;
    if (p !== j) {
      [M[p], M[j]] = [M[j]!, M[p]!];
      [perm[p], perm[j]] = [perm[j]!, perm[p]!];
    }
    const inv = f32(1 / M[j]![j]!);
    for (let i = j + 1; i < n; i++) M[i]![j] = f32(M[i]![j]! * inv);
  }
  // (P^T L U)^T x = b  =>  U^T z = b, L^T w = z, x[perm[i]] = w[i].
  const z = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let k = 0; k < i; k++) d = f32(d + f32(M[k]![i]! * z[k]!));
    z[i] = f32(f32(f32(b[i]!) - d) / M[i]![i]!);
  }
  const w = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let d = 0;
    for (let k = i + 1; k < n; k++) d = f32(d + f32(M[k]![i]! * w[k]!));
    w[i] = f32(z[i]! - d);
  }
  const x = new Array<number>(n);
  for (let i = 0; i < n; i++) x[perm[i]!] = w[i]!;
  return x;
}
