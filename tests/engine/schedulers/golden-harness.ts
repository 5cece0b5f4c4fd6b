// Replays a diffusers reference trajectory (diffusers_scheduler_reference.md, "Procedure (exact)") through our
// schedulers and measures the differences. Used by golden.test.ts; also handy from a REPL.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { TorchGenerator } from '../../../src-main/engine/random/index.js';
import {
  createScheduler,
  diffusersClassToScheduler,
  img2imgTimesteps,
  registeredSchedulerNames,
} from '../../../src-main/engine/schedulers/index.js';
import type { Scheduler, SchedulerName, StepOptions } from '../../../src-main/engine/schedulers/types.js';
import { readJsonl, repoRoot, sharedPath } from '../../helpers/shared.js';

export interface AddNoiseRecord {
  first8: number[];
  sum: number;
}

export interface ReferenceLine {
  name: string;
  scheduler: string;
  variant: string;
  spacing: string;
  num_inference_steps: number;
  config: Record<string, unknown>;
  ok: boolean;
  order: number;
  timesteps: number[];
  timesteps_dtype: string;
  sigmas: number[] | null;
  init_noise_sigma: number;
  x_init_first4: number[];
  step_kwargs: Record<string, unknown>;
  num_model_calls: number;
  steps: { i: number; t: number; x_in_first4: number[]; x_first4: number[] }[];
  final: { sum: number; sum_sq: number; first16: number[]; has_nonfinite: boolean };
  img2img?: {
    ok?: boolean;
    strength: number;
    slice_start_index: number;
    timesteps_kept: number[];
    begin_index: number | null;
    latent_timestep: number;
    add_noise: AddNoiseRecord;
    add_noise_without_begin_index: AddNoiseRecord;
  };
  lcm_img2img?: { ok?: boolean; error?: string; timesteps?: number[]; latent_timestep?: number; add_noise?: AddNoiseRecord };
}

export interface Tables {
  sd15_betas_float32: number[];
  sd15_alphas_cumprod_float32: number[];
  sd15_final_alpha_cumprod_ddim_pndm: number;
  latent_noise_seed1234_float32: number[];
  img2img_noise_seed99_float32: number[];
}

let tablesCache: Tables | undefined;
export function loadTables(): Tables {
  tablesCache ??= JSON.parse(readFileSync(sharedPath('reference/sd15_scheduler_tables.json'), 'utf8')) as Tables;
  return tablesCache;
}

/** The shared sample plus our generated fixture lines (tests/fixtures/schedulers/*.jsonl), tagged by source. */
export function loadReferenceLines(): { source: string; line: ReferenceLine }[] {
  const out: { source: string; line: ReferenceLine }[] = [];
  for (const line of readJsonl<ReferenceLine>(sharedPath('reference/diffusers_scheduler_examples.jsonl'))) {
    out.push({ source: 'shared', line });
  }
  const dir = path.join(repoRoot, 'tests/fixtures/schedulers');
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
      for (const line of readJsonl<ReferenceLine>(path.join(dir, f))) out.push({ source: f, line });
    }
  }
  return out;
}

/** Our scheduler for a diffusers class (its variant lives entirely in the resolved `config`). */
export function schedulerNameFor(line: ReferenceLine): SchedulerName | undefined {
  return diffusersClassToScheduler[line.scheduler];
}

export function isRegistered(name: SchedulerName | undefined): name is SchedulerName {
  return name !== undefined && registeredSchedulerNames().includes(name);
}

/** The synthetic model: eps = 0.1 * x_in + 0.05 * sin(t / 100), float32. */
export function syntheticModel(xIn: Float32Array, t: number): Float32Array {
  const c = Math.fround(0.05 * Math.sin(t / 100));
  const k = Math.fround(0.1);
  const eps = new Float32Array(xIn.length);
  for (let i = 0; i < xIn.length; i++) eps[i] = Math.fround(xIn[i]! * k) + c;
  return eps;
}

export interface LineResult {
  timesteps: number[];
  sigmas?: number[];
  initNoiseSigma: number;
  xInit: Float32Array;
  steps: { t: number; xIn: Float32Array; x: Float32Array }[];
  final: Float32Array;
}

function stepOptions(line: ReferenceLine, gen: TorchGenerator): StepOptions {
  const opts: StepOptions = {};
  if ('generator' in line.step_kwargs) opts.generator = gen;
  if (typeof line.step_kwargs['eta'] === 'number') opts.eta = line.step_kwargs['eta'];
  return opts;
}

export function makeScheduler(line: ReferenceLine): Scheduler {
  const name = schedulerNameFor(line);
  if (!name) throw new Error(`no scheduler for ${line.scheduler}`);
  return createScheduler(name, line.config);
}

/** Runs the reference procedure with our scheduler. */
export function runLine(line: ReferenceLine): LineResult {
  const tables = loadTables();
  const sched = makeScheduler(line);
  sched.setTimesteps(line.num_inference_steps);
  const timesteps = [...sched.timesteps];
  const sigmas = sched.sigmas ? [...sched.sigmas] : undefined;
  const initNoiseSigma = sched.initNoiseSigma;
  const ins = Math.fround(initNoiseSigma);
  const noise = Float32Array.from(tables.latent_noise_seed1234_float32);
  let x: Float32Array = new Float32Array(noise.length);
  for (let i = 0; i < noise.length; i++) x[i] = noise[i]! * ins;
  const xInit = x;
  const gen = new TorchGenerator(0);
  const opts = stepOptions(line, gen);
  const steps: LineResult['steps'] = [];
  for (const t of sched.timesteps) {
    const xIn = sched.scaleModelInput(x, t);
    const eps = syntheticModel(xIn, t);
    x = sched.step(eps, t, x, opts).prevSample;
    steps.push({ t, xIn, x });
  }
  return { timesteps, sigmas, initNoiseSigma, xInit, steps, final: x };
}

export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

/** Largest |a-b| over the common prefix, and the scale `max(1, max|ref|)` the tolerance is relative to. */
export function diff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < expected.length; i++) m = Math.max(m, Math.abs(actual[i]! - expected[i]!));
  return m;
}

export function sums(x: Float32Array): { sum: number; sumSq: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < x.length; i++) {
    sum += x[i]!;
    sumSq += x[i]! * x[i]!;
  }
  return { sum, sumSq };
}

export interface Img2ImgResult {
  beginIndex: number;
  timesteps: number[];
  noisy: Float32Array;
}

/** StableDiffusionImg2ImgPipeline.get_timesteps + prepare_latents at strength 0.6 (LCM: its own pipeline). */
export function runImg2Img(line: ReferenceLine, strength = 0.6): Img2ImgResult {
  const tables = loadTables();
  const sched = makeScheduler(line);
  const { beginIndex, timesteps } = img2imgTimesteps(sched, line.num_inference_steps, strength);
  const x0 = new Float32Array(tables.img2img_noise_seed99_float32.length).fill(0.5);
  const noise = Float32Array.from(tables.img2img_noise_seed99_float32);
  const noisy = timesteps.length > 0 ? sched.addNoise(x0, noise, beginIndex) : new Float32Array(0);
  return { beginIndex, timesteps, noisy };
}
