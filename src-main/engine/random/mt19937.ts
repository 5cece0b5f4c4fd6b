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

  private twist(): void {
    const mt = this.state;
    let kk = 0;
    let y: number;
    for (; kk < N - M; kk++) {
      y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
      mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
      mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    y = (mt[N - 1]! & UPPER_MASK) | (mt[0]! & LOWER_MASK);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.index = 0;
  }

  /** The next 32-bit output as an unsigned integer (ATen's `CPUGeneratorImpl::random()`). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
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
    const end = start + count;
    for (let i = start; i < end; i++) {
      if (index >= N) {
        this.twist();
        index = 0;
      }
      let y = mt[index++]!;
      y ^= y >>> 11;
      y ^= (y << 7) & 0x9d2c5680;
      y ^= (y << 15) & 0xefc60000;
      y ^= y >>> 18;
      out[i] = (y & 0xffffff) * TWO_POW_M24;
    }
    this.index = index;
  }
}
