// The 32-bit Mersenne Twister (MT19937) exactly as ATen's `at::mt19937` runs it
// (aten/src/ATen/core/MT19937RNGEngine.h): the classic Matsumoto–Nishimura generator,
// seeded with the low 32 bits of the seed by the usual 1812433253 recurrence.

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** 2^-24: one step of the 24-bit uniform floats torch draws for float32. */
const TWO_POW_M24 = 5.9604644775390625e-8;

/**
 * Regenerates the 624 words of `mt` in place (the standard MT19937 twist), without branches
 * (`-(y & 1) & MATRIX_A` is MATRIX_A for odd y, else 0).
 */
function twistState(mt: Uint32Array): void {
  // Module constants copied to int32 locals: inside an optimised loop a module-level binding (a heap
  // number here) is re-read and type-checked on every use.
  const upper = UPPER_MASK | 0;
  const lower = LOWER_MASK | 0;
  const matrixA = MATRIX_A | 0;
  let kk = 0;
  let y: number;
  for (; kk < N - M; kk++) {
    y = (mt[kk]! & upper) | (mt[kk + 1]! & lower);
    mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (-(y & 1) & matrixA);
  }
  for (; kk < N - 1; kk++) {
    y = (mt[kk]! & upper) | (mt[kk + 1]! & lower);
    mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (-(y & 1) & matrixA);
  }
  y = (mt[N - 1]! & upper) | (mt[0]! & lower);
  mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (-(y & 1) & matrixA);
}

export class MT19937 {
  private readonly state = new Uint32Array(N);
  /** Index of the next word of `state` to temper; N means the state must be regenerated first. */
  private index = N;

  /** `seed32` must be an integer in [0, 2^32). */
  constructor(seed32: number) {
    const mt = this.state;
    mt[0] = seed32 >>> 0;
    for (let j = 1; j < N; j++) {
      const prev = mt[j - 1]!;
      mt[j] = (Math.imul(1812433253, (prev ^ (prev >>> 30)) >>> 0) + j) >>> 0;
    }
    this.index = N;
  }

  /** An independent copy that continues the same stream. */
  clone(): MT19937 {
    const copy = new MT19937(0);
    copy.state.set(this.state);
    copy.index = this.index;
    return copy;
  }

  /** The next 32-bit output as an unsigned integer (ATen's `CPUGeneratorImpl::random()`). */
  nextUint32(): number {
    if (this.index >= N) {
      twistState(this.state);
      this.index = 0;
    }
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * Writes `count` float32 uniforms in [0, 1) to `out[start..]`, one 32-bit output each:
   * `(random() & (2^24 - 1)) * 2^-24`, i.e. `at::uniform_real_distribution<float>(0, 1)`.
   */
  fillUniform24(out: Float32Array, start: number, count: number): void {
    const mt = this.state;
    let index = this.index;
    let i = start;
    const end = start + count;
    while (i < end) {
      if (index >= N) {
        twistState(mt);
        index = 0;
      }
      // Temper a run of words of the current state (no regeneration inside the loop).
      const stop = Math.min(end, i + N - index);
      for (; i < stop; i++) {
        let y = mt[index++]!;
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        out[i] = (y & 0xffffff) * TWO_POW_M24;
      }
    }
    this.index = index;
  }
}
