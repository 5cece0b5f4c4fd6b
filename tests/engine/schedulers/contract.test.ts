// The contract every registered scheduler keeps (the diffusers habit of one shared scheduler test suite).
// New schedulers are picked up from the registry automatically.
import { describe, expect, it } from 'vitest';
import { TorchGenerator } from '../../../src-main/engine/random/index.js';
import { SD15_SCHEDULER_CONFIG } from '../../../src-main/engine/schedulers/config.js';
import {
  createScheduler,
  defaultSchedulerFor,
  diffusersClassToScheduler,
  img2imgTimesteps,
  isSchedulerName,
  registeredSchedulerNames,
  schedulerNames,
  schedulerToDiffusersClass,
} from '../../../src-main/engine/schedulers/index.js';
import type { NoiseSource, Scheduler, SchedulerConfig, SchedulerName } from '../../../src-main/engine/schedulers/types.js';

const SPACINGS = ['leading', 'trailing', 'linspace'] as const;
const STEP_COUNTS = [1, 4, 20, 50];
const N_ELEMS = 4 * 8 * 8;
/** Schedulers whose steps draw noise: they cannot land on a known clean latent. */
const STOCHASTIC = new Set<SchedulerName>(['ddpm', 'euler-ancestral', 'lcm']);

/** A deterministic stand-in for TorchGenerator: a fixed pseudo-normal pattern that shifts per draw. */
class FakeNoise implements NoiseSource {
  draws = 0;
  randn(shape: readonly number[]): Float32Array {
    const n = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.sin(i * 12.9898 + this.draws * 78.233) * 1.5;
    this.draws++;
    return out;
  }
}

function pattern(n: number, seed: number, amp = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin((i + 1) * 0.37 + seed * 1.7);
  return out;
}

function syntheticModel(xIn: Float32Array, t: number): Float32Array {
  const c = Math.fround(0.05 * Math.sin(t / 100));
  const out = new Float32Array(xIn.length);
  for (let i = 0; i < xIn.length; i++) out[i] = Math.fround(xIn[i]! * 0.1) + c;
  return out;
}

function configFor(name: SchedulerName, spacing: string, extra: SchedulerConfig = {}): SchedulerConfig {
  // LCM's distilled schedule ignores spacing; PNDM runs PLMS-only like the SD 1.x configs.
  const base: SchedulerConfig = { ...SD15_SCHEDULER_CONFIG, timestep_spacing: spacing, skip_prk_steps: true };
  return name === 'lcm' ? { ...extra } : { ...base, ...extra };
}

function maxLcmSteps(n: number): boolean {
  return n <= 50;
}

function runLoop(s: Scheduler, x: Float32Array, noise: NoiseSource, timesteps = s.timesteps): { x: Float32Array; calls: number } {
  let calls = 0;
  for (const t of timesteps) {
    const xIn = s.scaleModelInput(x, t);
    expect(xIn.length).toBe(x.length);
    const out = s.step(syntheticModel(xIn, t), t, x, { generator: noise });
    expect(out.prevSample.length).toBe(x.length);
    x = out.prevSample;
    calls++;
  }
  return { x, calls };
}

const allFinite = (x: Float32Array): boolean => x.every(Number.isFinite);

describe('scheduler registry', () => {
  it('names all 10 schedulers and maps every diffusers class both ways', () => {
    expect(schedulerNames).toHaveLength(10);
    for (const n of schedulerNames) {
      expect(isSchedulerName(n)).toBe(true);
      expect(diffusersClassToScheduler[schedulerToDiffusersClass[n]]).toBe(n);
    }
    expect(isSchedulerName('euler_a')).toBe(false);
    expect(diffusersClassToScheduler['DPMSolverMultistepScheduler']).toBe('dpmpp-2m');
    expect(diffusersClassToScheduler['EulerAncestralDiscreteScheduler']).toBe('euler-ancestral');
    expect(defaultSchedulerFor({ _class_name: 'LCMScheduler' })).toBe('lcm');
    expect(defaultSchedulerFor({ _class_name: 'Unknown' }, 'euler')).toBe('euler');
    expect(defaultSchedulerFor(undefined)).toBe('pndm');
  });

  it('builds every registered scheduler with its name and diffusers defaults', () => {
    const names = registeredSchedulerNames();
    expect(names).toEqual(expect.arrayContaining(['ddpm', 'ddim', 'pndm', 'euler', 'euler-ancestral', 'lcm']));
    for (const n of names) {
      const s = createScheduler(n);
      expect(s.name).toBe(n);
      expect(s.config['num_train_timesteps']).toBe(1000);
      expect(s.order).toBeGreaterThanOrEqual(1);
    }
  });

  it('merges a model scheduler_config.json over the defaults, ignoring bookkeeping keys', () => {
    const s = createScheduler('ddim', { _class_name: 'PNDMScheduler', _diffusers_version: '0.6.0', ...SD15_SCHEDULER_CONFIG, skip_prk_steps: true });
    expect(s.config['beta_schedule']).toBe('scaled_linear');
    expect(s.config['set_alpha_to_one']).toBe(false);
    expect(s.config['_class_name']).toBeUndefined();
    expect(s.config['skip_prk_steps']).toBe(true); // unknown to DDIM: kept, ignored
  });
});

for (const name of registeredSchedulerNames()) {
  describe(`contract: ${name}`, () => {
    for (const spacing of SPACINGS) {
      it(`timesteps for 1/4/20/50 steps (${spacing})`, () => {
        for (const n of STEP_COUNTS) {
          if (name === 'lcm' && !maxLcmSteps(n)) continue;
          const s = createScheduler(name, configFor(name, spacing));
          s.setTimesteps(n);
          const ts = s.timesteps;
          expect(ts.length).toBeGreaterThanOrEqual(n);
          expect(ts.length).toBeLessThanOrEqual(2 * n + 9);
          for (let i = 0; i < ts.length; i++) {
            expect(Number.isFinite(ts[i])).toBe(true);
            expect(ts[i]).toBeGreaterThanOrEqual(0);
            expect(ts[i]).toBeLessThanOrEqual(999);
            if (i > 0) expect(ts[i]).toBeLessThanOrEqual(ts[i - 1]!);
          }
          if (s.sigmas) {
            expect(s.sigmas.length).toBe(ts.length + 1);
            expect(s.sigmas.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
          }
          expect(Number.isFinite(s.initNoiseSigma) && s.initNoiseSigma > 0).toBe(true);
        }
      });

      it(`full loop with a synthetic model stays finite, one step per timestep (${spacing})`, () => {
        for (const n of [1, 4, 20]) {
          const s = createScheduler(name, configFor(name, spacing));
          s.setTimesteps(n);
          const x0 = pattern(N_ELEMS, 1, s.initNoiseSigma);
          const { x, calls } = runLoop(s, x0, new TorchGenerator(0));
          expect(calls).toBe(s.timesteps.length);
          expect(allFinite(x)).toBe(true);
        }
      });
    }

    it('scaleModelInput keeps the shape and stays finite', () => {
      const s = createScheduler(name, configFor(name, 'leading'));
      s.setTimesteps(10);
      const x = pattern(N_ELEMS, 2, s.initNoiseSigma);
      const y = s.scaleModelInput(x, s.timesteps[0]!);
      expect(y.length).toBe(x.length);
      expect(allFinite(y)).toBe(true);
    });

    it('setTimesteps again resets all per-run state', () => {
      const s = createScheduler(name, configFor(name, 'leading'));
      s.setTimesteps(12);
      const start = pattern(N_ELEMS, 3, s.initNoiseSigma);
      const first = runLoop(s, start, new TorchGenerator(0)).x;
      s.setTimesteps(7); // a different run in between
      runLoop(s, start, new TorchGenerator(1));
      s.setTimesteps(12);
      const again = runLoop(s, start, new TorchGenerator(0)).x;
      expect(Array.from(again)).toEqual(Array.from(first));
    });

    it('runs with a fake noise source (no TorchGenerator needed)', () => {
      const s = createScheduler(name, configFor(name, 'leading'));
      s.setTimesteps(8);
      const noise = new FakeNoise();
      const { x } = runLoop(s, pattern(N_ELEMS, 4, s.initNoiseSigma), noise);
      expect(allFinite(x)).toBe(true);
      if (!STOCHASTIC.has(name)) expect(noise.draws).toBe(0);
      else expect(noise.draws).toBeGreaterThan(0);
    });

    it('v_prediction runs and stays finite', () => {
      for (const spacing of ['leading', 'trailing'] as const) {
        const s = createScheduler(name, configFor(name, spacing, { prediction_type: 'v_prediction' }));
        s.setTimesteps(10);
        const { x } = runLoop(s, pattern(N_ELEMS, 5, s.initNoiseSigma), new TorchGenerator(0));
        expect(allFinite(x)).toBe(true);
      }
    });

    it('img2img: begin index, kept timesteps, addNoise at the begin index, then a finite loop', () => {
      for (const [n, strength] of [
        [20, 0.6],
        [10, 0.3],
        [4, 1.0],
        [30, 0.75],
      ] as const) {
        const s = createScheduler(name, configFor(name, 'leading'));
        const { beginIndex, timesteps } = img2imgTimesteps(s, n, strength);
        if (name === 'lcm') {
          expect(beginIndex).toBe(0);
          expect(timesteps).toHaveLength(n);
        } else {
          const tStart = n - Math.min(Math.trunc(n * strength), n);
          expect(beginIndex).toBe(tStart * s.order);
          expect(timesteps).toEqual(s.timesteps.slice(beginIndex));
        }
        expect(timesteps.length).toBeGreaterThan(0);
        const x0 = pattern(N_ELEMS, 6, 0.8);
        const noisy = s.addNoise(x0, pattern(N_ELEMS, 7), beginIndex);
        expect(noisy.length).toBe(x0.length);
        expect(allFinite(noisy)).toBe(true);
        // zero noise: sigma-space schedulers keep x0, the others scale it by sqrt(alpha_cumprod) <= 1
        const clean = s.addNoise(x0, new Float32Array(N_ELEMS), beginIndex);
        for (let i = 0; i < N_ELEMS; i++) expect(Math.abs(clean[i]!)).toBeLessThanOrEqual(Math.abs(x0[i]!) + 1e-7);
        const { x, calls } = runLoop(s, noisy, new TorchGenerator(0), timesteps);
        expect(calls).toBe(timesteps.length);
        expect(allFinite(x)).toBe(true);
      }
    });

    if (!STOCHASTIC.has(name)) {
      it('a denoiser that predicts the exact noise lands on the clean latent', () => {
        for (const spacing of SPACINGS) {
          // DDIM and PNDM step to t - 1000//N whatever the spacing (as diffusers does), which is off the linspace
          // grid: the sample then sits at another noise level than the next timestep says. Only N=1 lands there.
          if ((name === 'ddim' || name === 'pndm') && spacing === 'linspace') continue;
          for (const n of [1, 4, 20, 50]) {
            const s = createScheduler(name, configFor(name, spacing, { set_alpha_to_one: true }));
            s.setTimesteps(n);
            const x0 = pattern(N_ELEMS, 8, 0.9);
            const noise = pattern(N_ELEMS, 9, 1.2);
            // start on the trajectory x_t(x0, noise) of the first timestep
            let x = s.addNoise(x0, noise, 0);
            for (const t of s.timesteps) {
              s.scaleModelInput(x, t);
              x = s.step(noise, t, x).prevSample;
            }
            let err = 0;
            for (let i = 0; i < N_ELEMS; i++) err = Math.max(err, Math.abs(x[i]! - x0[i]!));
            expect(err, `${spacing}/${n}`).toBeLessThan(1e-4);
          }
        }
      });
    }
  });
}
