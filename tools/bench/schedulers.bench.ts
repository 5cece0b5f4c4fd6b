// Scheduler overhead per step: `npx tsx tools/bench/schedulers.bench.ts [--steps N] [--rounds R]`
// A 50-step loop on a 1x4x64x64 latent with a synthetic model (eps = 0.1*x + c, not timed), for every
// registered scheduler (SD 1.5 config, leading spacing; noise from TorchGenerator where a step draws it,
// included in ms_per_step; ms_per_step_excl_randn leaves the draws out). Prints one JSON line per scheduler:
// {"bench":"schedulers","scheduler":...,"ms_per_step":...,"ms_per_step_excl_randn":...}.
import { performance } from 'node:perf_hooks';
import { TorchGenerator } from '../../src-main/engine/random/index.js';
import { SD15_SCHEDULER_CONFIG } from '../../src-main/engine/schedulers/config.js';
import { createScheduler, registeredSchedulerNames } from '../../src-main/engine/schedulers/index.js';
import type { NoiseSource } from '../../src-main/engine/schedulers/types.js';

/** TorchGenerator that keeps the time spent drawing, so the scheduler's own cost can be shown apart. */
class TimedNoise implements NoiseSource {
  ms = 0;
  constructor(private readonly gen: TorchGenerator) {}
  randn(shape: readonly number[]): Float32Array {
    const t = performance.now();
    const out = this.gen.randn(shape);
    this.ms += performance.now() - t;
    return out;
  }
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const steps = arg('--steps', 50);
const rounds = arg('--rounds', 5);
const SHAPE = [1, 4, 64, 64];
const N = SHAPE.reduce((a, b) => a * b, 1);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const start = new TorchGenerator(1234).randn(SHAPE);
const eps = new Float32Array(N);

for (const name of registeredSchedulerNames()) {
  const config = name === 'lcm' ? {} : { ...SD15_SCHEDULER_CONFIG, skip_prk_steps: true, timestep_spacing: 'leading' };
  const nSteps = name === 'lcm' ? Math.min(steps, 50) : steps;
  const perStep: number[] = [];
  const perStepNoNoise: number[] = [];
  let setTimestepsMs = 0;
  let modelCalls = 0;
  for (let r = 0; r < rounds + 1; r++) {
    const sched = createScheduler(name, config);
    const t0 = performance.now();
    sched.setTimesteps(nSteps);
    const t1 = performance.now();
    const gen = new TimedNoise(new TorchGenerator(0));
    let x: Float32Array = new Float32Array(N);
    for (let i = 0; i < N; i++) x[i] = start[i]! * sched.initNoiseSigma;
    let timed = 0;
    for (const t of sched.timesteps) {
      const a = performance.now();
      const xIn = sched.scaleModelInput(x, t);
      const b = performance.now();
      const c = Math.fround(0.05 * Math.sin(t / 100));
      for (let i = 0; i < N; i++) eps[i] = Math.fround(xIn[i]! * 0.1) + c; // the "model": not timed
      const d = performance.now();
      x = sched.step(eps, t, x, { generator: gen }).prevSample;
      timed += b - a + (performance.now() - d);
    }
    if (r === 0) continue; // warm-up round (JIT)
    modelCalls = sched.timesteps.length;
    perStep.push(timed / modelCalls);
    perStepNoNoise.push((timed - gen.ms) / modelCalls);
    setTimestepsMs = t1 - t0;
  }
  console.log(
    JSON.stringify({
      bench: 'schedulers',
      scheduler: name,
      shape: SHAPE.join('x'),
      num_inference_steps: nSteps,
      model_calls: modelCalls,
      ms_per_step: Number(median(perStep).toFixed(4)),
      ms_per_step_excl_randn: Number(median(perStepNoNoise).toFixed(4)),
      ms_set_timesteps: Number(setTimestepsMs.toFixed(3)),
    }),
  );
}
