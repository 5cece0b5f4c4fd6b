// Golden trajectories from diffusers v0.40.0: every line of the shared sample
// (../shared/reference/diffusers_scheduler_examples.jsonl) and of our generated fixtures
// (tests/fixtures/schedulers/*.jsonl, see the README there), replayed through our schedulers with the
// reference's tolerances. Lines of schedulers that are not registered yet are skipped.
// GOLDEN_REPORT=1 prints the largest error of each line.
import { afterAll, describe, expect, it } from 'vitest';
import {
  diff,
  isRegistered,
  loadReferenceLines,
  maxAbs,
  runImg2Img,
  runLine,
  schedulerNameFor,
  sums,
  type ReferenceLine,
} from './golden-harness.js';

const lines = loadReferenceLines();
const report: Record<string, number>[] = [];
const reportRows: string[] = [];

function relErr(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
}

function checkTrajectory(line: ReferenceLine): void {
  if (!line.ok) {
    // diffusers raised (e.g. PNDM with PRK steps and N < 4): so must we.
    expect(() => runLine(line)).toThrow();
    return;
  }
  const r = runLine(line);
  // timesteps: exact (float32 values are compared as float32)
  expect(r.timesteps.length).toBe(line.timesteps.length);
  expect(r.timesteps.length).toBe(line.num_model_calls);
  expect(r.timesteps.map(Math.fround)).toEqual(line.timesteps.map(Math.fround));
  // sigmas and init_noise_sigma: 1e-6 relative
  let sigmaErr = 0;
  if (line.sigmas) {
    expect(r.sigmas, 'sigmas').toBeDefined();
    expect(r.sigmas!.length).toBe(line.sigmas.length);
    line.sigmas.forEach((s, i) => {
      const e = s === 0 ? Math.abs(r.sigmas![i]!) : relErr(r.sigmas![i]!, s);
      sigmaErr = Math.max(sigmaErr, e);
    });
    expect(sigmaErr).toBeLessThanOrEqual(1e-6);
  }
  const insErr = relErr(r.initNoiseSigma, line.init_noise_sigma);
  expect(insErr).toBeLessThanOrEqual(1e-6);
  expect(diff(r.xInit, line.x_init_first4)).toBeLessThanOrEqual(1e-5 * Math.max(1, maxAbs(r.xInit)));

  // per step: |a - b| <= 1e-5 * max(1, max|x|)
  expect(r.steps.length).toBe(line.steps.length);
  let stepErr = 0;
  line.steps.forEach((s, i) => {
    const ours = r.steps[i]!;
    expect(Math.fround(ours.t)).toBe(Math.fround(s.t));
    const eIn = diff(ours.xIn, s.x_in_first4) / Math.max(1, maxAbs(ours.xIn));
    const eX = diff(ours.x, s.x_first4) / Math.max(1, maxAbs(ours.x));
    stepErr = Math.max(stepErr, eIn, eX);
    expect(eIn, `step ${i} x_in`).toBeLessThanOrEqual(1e-5);
    expect(eX, `step ${i} x`).toBeLessThanOrEqual(1e-5);
  });
  // final
  const { sum, sumSq } = sums(r.final);
  const finalErr = diff(r.final, line.final.first16) / Math.max(1, maxAbs(r.final));
  expect(finalErr).toBeLessThanOrEqual(1e-5);
  const sumErr = Math.abs(sum - line.final.sum) / Math.max(1, Math.abs(line.final.sum));
  const sumSqErr = relErr(sumSq, line.final.sum_sq);
  expect(sumErr).toBeLessThanOrEqual(1e-5);
  expect(sumSqErr).toBeLessThanOrEqual(1e-5);
  expect(r.final.every(Number.isFinite)).toBe(true);
  report.push({ sigmaErr, insErr, stepErr, finalErr, sumErr, sumSqErr });
  reportRows.push(
    `${line.name}: sigma ${sigmaErr.toExponential(1)} init ${insErr.toExponential(1)} step ${stepErr.toExponential(1)} final ${finalErr.toExponential(1)} sum ${sumErr.toExponential(1)} sumsq ${sumSqErr.toExponential(1)}`,
  );
}

function checkImg2Img(line: ReferenceLine): void {
  const ref = line.img2img!;
  const r = runImg2Img(line, ref.strength);
  expect(r.beginIndex).toBe(ref.slice_start_index);
  if (ref.ok === false) {
    // nothing left to denoise (the pipeline raises); we return an empty schedule
    expect(r.timesteps).toEqual([]);
    return;
  }
  if (ref.begin_index !== null) expect(r.beginIndex).toBe(ref.begin_index);
  expect(r.timesteps.map(Math.fround)).toEqual(ref.timesteps_kept.map(Math.fround));
  expect(Math.fround(r.timesteps[0]!)).toBe(Math.fround(ref.latent_timestep));
  const scale = Math.max(1, maxAbs(r.noisy));
  for (const rec of [ref.add_noise, ref.add_noise_without_begin_index]) {
    expect(diff(r.noisy, rec.first8) / scale).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(sums(r.noisy).sum - rec.sum) / Math.max(1, Math.abs(rec.sum))).toBeLessThanOrEqual(1e-5);
  }
}

function checkLcmImg2Img(line: ReferenceLine): void {
  const ref = line.lcm_img2img!;
  if (ref.ok === false) {
    expect(() => runImg2Img(line, 0.6)).toThrow();
    return;
  }
  const r = runImg2Img(line, 0.6);
  expect(r.beginIndex).toBe(0);
  expect(r.timesteps).toEqual(ref.timesteps);
  expect(r.timesteps[0]).toBe(ref.latent_timestep);
  const rec = ref.add_noise!;
  expect(diff(r.noisy, rec.first8) / Math.max(1, maxAbs(r.noisy))).toBeLessThanOrEqual(1e-5);
  expect(Math.abs(sums(r.noisy).sum - rec.sum) / Math.max(1, Math.abs(rec.sum))).toBeLessThanOrEqual(1e-5);
}

describe('diffusers v0.40.0 golden trajectories', () => {
  it('has reference lines', () => {
    expect(lines.length).toBeGreaterThanOrEqual(13);
    expect(lines.every(({ line }) => schedulerNameFor(line) !== undefined)).toBe(true);
  });

  for (const { source, line } of lines) {
    const registered = isRegistered(schedulerNameFor(line));
    const title = `${line.name} [${source}]`;
    const test = registered ? it : it.skip;
    test(`${title}: trajectory`, () => checkTrajectory(line));
    if (line.img2img && line.ok) test(`${title}: img2img`, () => checkImg2Img(line));
    if (line.lcm_img2img) test(`${title}: lcm img2img`, () => checkLcmImg2Img(line));
  }

  afterAll(() => {
    if (process.env['GOLDEN_REPORT']) console.log(reportRows.join('\n'));
  });
});
