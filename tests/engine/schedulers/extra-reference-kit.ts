// The test kit shared by the heun, lms, dpmpp-2m and unipc tests: each of them checks its scheduler against the
// diffusers golden lines (golden-harness.ts), against extra diffusers runs embedded in the test file (ExtraCase), and
// runs schedule invariants and a speed check. Only the scheduler name and its diffusers class differ between them.
import { expect } from 'vitest';
import { SD15_SCHEDULER_CONFIG } from '../../../src-main/engine/schedulers/common.js';
import { createScheduler, img2imgTimesteps } from '../../../src-main/engine/schedulers/index.js';
import type { Scheduler, SchedulerName } from '../../../src-main/engine/schedulers/types.js';
import {
  diff,
  loadReferenceLines,
  loadTables,
  maxAbs,
  runImg2Img,
  runLine,
  sums,
  syntheticModel,
  type ReferenceLine,
} from './golden-harness.js';

export const fround = Math.fround;

export interface ExtraCase {
  overrides: Record<string, unknown>;
  n: number;
  timesteps: number[] | null;
  numCalls: number;
  sigmas: number[] | null;
  initNoiseSigma: number;
  final8?: number[];
  sum?: number;
  sumSq?: number;
  preFinalX4?: number[] | null;
  diffusersFinalIsNaN?: boolean;
  img2img?: { beginIndex: number; first8: number[]; sum: number };
}

export function caseTitle(c: ExtraCase): string {
  return `${JSON.stringify(c.overrides)} N=${c.n}`;
}

/** The reference procedure (diffusers_scheduler_reference.md) with the synthetic model; every prev_sample kept. */
export function runSynthetic(s: Scheduler, n: number): { xs: Float32Array[]; preds: (Float32Array | undefined)[]; final: Float32Array } {
  s.setTimesteps(n);
  const ins = fround(s.initNoiseSigma);
  let x: Float32Array = Float32Array.from(loadTables().latent_noise_seed1234_float32, (v) => v * ins);
  const xs: Float32Array[] = [];
  const preds: (Float32Array | undefined)[] = [];
  for (const t of s.timesteps) {
    const xIn = s.scaleModelInput(x, t);
    const r = s.step(syntheticModel(xIn, t), t, x);
    x = r.prevSample;
    xs.push(x);
    preds.push(r.predOriginalSample);
  }
  return { xs, preds, final: x };
}

export function relErr(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
}

/** max |a - b| / max(1, max|ref|) over the reference prefix. */
export function scaledErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  return diff(actual, expected) / Math.max(1, maxAbs(expected));
}

export const TOL = 1e-6; // 10x tighter than the reference's 1e-5; the ports are bit-exact on every line checked with it

export function checkGolden(line: ReferenceLine): void {
  const r = runLine(line);
  expect(r.timesteps.map(fround)).toEqual(line.timesteps.map(fround));
  expect(r.timesteps.length).toBe(line.num_model_calls);
  line.sigmas!.forEach((v, i) => expect(relErr(r.sigmas![i]!, v)).toBeLessThanOrEqual(TOL));
  expect(relErr(r.initNoiseSigma, line.init_noise_sigma)).toBeLessThanOrEqual(TOL);
  expect(scaledErr(r.xInit, line.x_init_first4)).toBeLessThanOrEqual(TOL);
  line.steps.forEach((st, i) => {
    expect(fround(r.steps[i]!.t)).toBe(fround(st.t));
    expect(scaledErr(r.steps[i]!.xIn, st.x_in_first4), `step ${i} x_in`).toBeLessThanOrEqual(TOL);
    expect(scaledErr(r.steps[i]!.x, st.x_first4), `step ${i} x`).toBeLessThanOrEqual(TOL);
  });
  expect(scaledErr(r.final, line.final.first16)).toBeLessThanOrEqual(TOL);
  const { sum, sumSq } = sums(r.final);
  expect(Math.abs(sum - line.final.sum) / Math.max(1, Math.abs(line.final.sum))).toBeLessThanOrEqual(TOL);
  expect(relErr(sumSq, line.final.sum_sq)).toBeLessThanOrEqual(TOL);
  expect(r.final.every(Number.isFinite)).toBe(true);
  if (line.img2img && line.img2img.ok !== false) {
    const ref = line.img2img;
    const i2i = runImg2Img(line, ref.strength);
    expect(i2i.beginIndex).toBe(ref.slice_start_index);
    expect(i2i.timesteps.map(fround)).toEqual(ref.timesteps_kept.map(fround));
    expect(fround(i2i.timesteps[0]!)).toBe(fround(ref.latent_timestep));
    for (const rec of [ref.add_noise, ref.add_noise_without_begin_index]) {
      expect(scaledErr(i2i.noisy, rec.first8)).toBeLessThanOrEqual(TOL);
      expect(Math.abs(sums(i2i.noisy).sum - rec.sum) / Math.max(1, Math.abs(rec.sum))).toBeLessThanOrEqual(TOL);
    }
  }
}

/** The 20-step leading line of the shared sample must be reproduced bit for bit (first 4 of every step). */
export function checkBitExact(line: ReferenceLine): void {
  const r = runLine(line);
  expect(r.sigmas!.map(fround)).toEqual(line.sigmas!.map(fround));
  expect(fround(r.initNoiseSigma)).toBe(fround(line.init_noise_sigma));
  line.steps.forEach((st, i) => {
    expect(Array.from(r.steps[i]!.xIn.subarray(0, 4))).toEqual(st.x_in_first4);
    expect(Array.from(r.steps[i]!.x.subarray(0, 4))).toEqual(st.x_first4);
  });
  expect(Array.from(r.final.subarray(0, 16))).toEqual(line.final.first16);
  if (line.img2img) expect(Array.from(runImg2Img(line, line.img2img.strength).noisy.subarray(0, 8))).toEqual(line.img2img.add_noise.first8);
}

export const SPACINGS = ['leading', 'trailing', 'linspace'] as const;
export const STEP_COUNTS = [1, 2, 3, 4, 7, 20, 50, 100];

export function monotoneNonIncreasing(v: readonly number[]): boolean {
  for (let i = 1; i < v.length; i++) if (v[i]! > v[i - 1]!) return false;
  return true;
}

export interface ExtraReferenceKit {
  /** The scheduler with the SD 1.5 config and these overrides. */
  make(overrides?: Record<string, unknown>): Scheduler;
  /** Runs one embedded diffusers case (ExtraCase) and compares. */
  checkExtraCase(c: ExtraCase): void;
  /** Golden lines of this scheduler: the shared sample and helper 1's generated fixtures. */
  goldenLines(): { source: string; line: ReferenceLine }[];
  /** The per-step cost on a 1x4x64x64 latent (best of a few runs, after warm-up), in CPU ms per model call. */
  msPerCall(overrides?: Record<string, unknown>, n?: number): number;
}

/** The kit's scheduler-bound half, for one scheduler (`name`) and the diffusers class it ports (`diffusersClass`). */
export function extraReferenceKit(name: SchedulerName, diffusersClass: string): ExtraReferenceKit {
  function make(overrides: Record<string, unknown> = {}): Scheduler {
    return createScheduler(name, { ...SD15_SCHEDULER_CONFIG, ...overrides });
  }

  function checkExtraCase(c: ExtraCase): void {
    const s = make(c.overrides);
    const r = runSynthetic(s, c.n);
    expect(s.timesteps.length).toBe(c.numCalls);
    if (c.timesteps) expect(s.timesteps.map(fround)).toEqual(c.timesteps.map(fround));
    if (c.sigmas) {
      expect(s.sigmas!.length).toBe(c.sigmas.length);
      c.sigmas.forEach((v, i) => expect(relErr(s.sigmas![i]!, v)).toBeLessThanOrEqual(TOL));
    }
    expect(relErr(s.initNoiseSigma, c.initNoiseSigma)).toBeLessThanOrEqual(TOL);
    expect(r.final.every(Number.isFinite)).toBe(true);
    if (c.final8) {
      expect(scaledErr(r.final, c.final8)).toBeLessThanOrEqual(TOL);
      const { sum, sumSq } = sums(r.final);
      expect(Math.abs(sum - c.sum!) / Math.max(1, Math.abs(c.sum!))).toBeLessThanOrEqual(TOL);
      expect(relErr(sumSq, c.sumSq!)).toBeLessThanOrEqual(TOL);
    }
    if (c.preFinalX4) expect(scaledErr(r.xs[r.xs.length - 2]!, c.preFinalX4)).toBeLessThanOrEqual(TOL);
    if (c.img2img) {
      const s2 = make(c.overrides);
      const { beginIndex } = img2imgTimesteps(s2, c.n, 0.6);
      expect(beginIndex).toBe(c.img2img.beginIndex);
      const noise = Float32Array.from(loadTables().img2img_noise_seed99_float32);
      const noisy = s2.addNoise(new Float32Array(noise.length).fill(0.5), noise, beginIndex);
      expect(scaledErr(noisy, c.img2img.first8)).toBeLessThanOrEqual(TOL);
      expect(Math.abs(sums(noisy).sum - c.img2img.sum) / Math.max(1, Math.abs(c.img2img.sum))).toBeLessThanOrEqual(TOL);
    }
  }

  function goldenLines(): { source: string; line: ReferenceLine }[] {
    return loadReferenceLines().filter(({ line }) => line.scheduler === diffusersClass);
  }

  function msPerCall(overrides: Record<string, unknown> = {}, n = 30): number {
    const size = 4 * 64 * 64;
    const eps = Float32Array.from({ length: size }, (_, i) => Math.fround(Math.cos(i) * 0.5));
    let best = Infinity;
    for (let rep = 0; rep < 4; rep++) {
      const s = make(overrides);
      s.setTimesteps(n);
      let x: Float32Array = Float32Array.from({ length: size }, (_, i) => Math.fround(Math.sin(i) * s.initNoiseSigma));
      // CPU time, not wall time: a busy machine does not make the scheduler cost more.
      const before = process.cpuUsage();
      for (const t of s.timesteps) {
        s.scaleModelInput(x, t);
        x = s.step(eps, t, x).prevSample;
      }
      const used = process.cpuUsage(before);
      best = Math.min(best, (used.user + used.system) / 1000 / s.timesteps.length);
    }
    return best;
  }

  return { make, checkExtraCase, goldenLines, msPerCall };
}
