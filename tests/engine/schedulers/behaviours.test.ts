// Behaviours of ddpm/ddim/pndm/lcm/euler/euler-ancestral that diffusers has and a port must copy
// (diffusers_scheduler_reference.md, "Scheduler behaviour a port must copy").
import { describe, expect, it } from 'vitest';
import { SD15_SCHEDULER_CONFIG } from '../../../src-main/engine/schedulers/config.js';
import { createScheduler, img2imgTimesteps } from '../../../src-main/engine/schedulers/index.js';
import type { NoiseSource, SchedulerConfig, SchedulerName } from '../../../src-main/engine/schedulers/types.js';

class CountingNoise implements NoiseSource {
  draws = 0;
  randn(shape: readonly number[]): Float32Array {
    this.draws++;
    return new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5);
  }
}

const sd15 = (spacing: string, extra: SchedulerConfig = {}): SchedulerConfig => ({
  ...SD15_SCHEDULER_CONFIG,
  timestep_spacing: spacing,
  ...extra,
});

function drawsOf(name: SchedulerName, config: SchedulerConfig, n: number, eta?: number): number {
  const s = createScheduler(name, config);
  s.setTimesteps(n);
  const noise = new CountingNoise();
  let x: Float32Array = new Float32Array(16).fill(0.3);
  for (const t of s.timesteps) {
    const xIn = s.scaleModelInput(x, t);
    x = s.step(xIn.map((v) => v * 0.1), t, x, { generator: noise, eta }).prevSample;
  }
  return noise.draws;
}

describe('noise draws per run', () => {
  it('DDPM draws on every step with t > 0 (the last one too with leading/trailing)', () => {
    expect(drawsOf('ddpm', sd15('leading'), 4)).toBe(4);
    expect(drawsOf('ddpm', sd15('trailing'), 4)).toBe(4);
    expect(drawsOf('ddpm', sd15('linspace'), 4)).toBe(3); // ends at t = 0
  });
  it('DDIM draws only with eta > 0, on every step', () => {
    expect(drawsOf('ddim', sd15('leading'), 5, 0)).toBe(0);
    expect(drawsOf('ddim', sd15('leading'), 5, 1)).toBe(5);
  });
  it('EulerAncestral draws on every step; LCM on every step but the last; Euler/PNDM never', () => {
    expect(drawsOf('euler-ancestral', sd15('leading'), 6)).toBe(6);
    expect(drawsOf('lcm', {}, 4)).toBe(3);
    expect(drawsOf('euler', sd15('leading'), 6)).toBe(0);
    expect(drawsOf('pndm', sd15('leading', { skip_prk_steps: true }), 6)).toBe(0);
  });
  it('a stochastic step without a generator throws', () => {
    const s = createScheduler('euler-ancestral', sd15('leading'));
    s.setTimesteps(2);
    expect(() => s.step(new Float32Array(4), s.timesteps[0]!, new Float32Array(4))).toThrow(/generator/);
  });
});

describe('schedules', () => {
  it('Euler init_noise_sigma: sqrt(max^2+1) for leading, max for trailing; linspace N=1 is [0]', () => {
    const lead = createScheduler('euler', sd15('leading'));
    lead.setTimesteps(4);
    expect(lead.initNoiseSigma).toBeCloseTo(4.2364135, 6);
    const trail = createScheduler('euler', sd15('trailing'));
    trail.setTimesteps(4);
    expect(trail.initNoiseSigma).toBeCloseTo(14.614645, 5);
    const one = createScheduler('euler', sd15('linspace'));
    one.setTimesteps(1);
    expect(one.timesteps).toEqual([0]);
    expect(one.initNoiseSigma).toBeCloseTo(0.0292, 4);
    expect(one.sigmas).toHaveLength(2);
  });

  it('Euler Karras uses the spacing-selected range and fractional timesteps', () => {
    const s = createScheduler('euler', sd15('leading', { use_karras_sigmas: true }));
    s.setTimesteps(4);
    expect(s.sigmas![0]).toBeCloseTo(4.1167, 4);
    expect(s.sigmas![3]).toBeCloseTo(0.0413, 4);
    expect(s.sigmas![4]).toBe(0);
    expect(s.timesteps.some((t) => !Number.isInteger(t))).toBe(true);
  });

  it('PNDM: N+1 calls with the second entry doubled (PLMS), N+9 with the Runge-Kutta warm-up', () => {
    const plms = createScheduler('pndm', sd15('leading', { skip_prk_steps: true }));
    plms.setTimesteps(4);
    expect(plms.timesteps).toEqual([751, 501, 501, 251, 1]);
    plms.setTimesteps(1);
    expect(plms.timesteps).toEqual([1]);
    const prk = createScheduler('pndm', sd15('leading', { skip_prk_steps: false }));
    prk.setTimesteps(20);
    expect(prk.timesteps).toHaveLength(29);
    expect(prk.timesteps.slice(0, 5)).toEqual([951, 926, 926, 901, 901]);
    expect(() => prk.setTimesteps(3)).toThrow();
  });

  it('PNDM img2img slices one entry early because of the duplicate', () => {
    const s = createScheduler('pndm', sd15('leading', { skip_prk_steps: true }));
    const { timesteps } = img2imgTimesteps(s, 20, 0.6);
    expect(timesteps).toHaveLength(13);
    expect(timesteps.slice(0, 3)).toEqual([601, 551, 501]);
  });

  it('DDIM steps to t - 1000//N whatever the spacing', () => {
    const s = createScheduler('ddim', sd15('linspace'));
    s.setTimesteps(4);
    expect(s.timesteps).toEqual([999, 666, 333, 0]);
  });

  it('LCM schedules: the 50-step origin schedule subsampled; strength cuts it; too few origin steps throw', () => {
    const s = createScheduler('lcm');
    s.setTimesteps(4);
    expect(s.timesteps).toEqual([999, 759, 499, 259]);
    s.setTimesteps(8);
    expect(s.timesteps).toEqual([999, 879, 759, 639, 499, 379, 259, 139]);
    s.setTimesteps(20);
    expect(s.timesteps.slice(0, 4)).toEqual([999, 959, 899, 859]);
    s.setTimesteps(4, { strength: 0.6 });
    expect(s.timesteps).toEqual([599, 459, 299, 159]);
    expect(() => s.setTimesteps(50, { strength: 0.6 })).toThrow();
  });
});

describe('configuration errors', () => {
  it('rejects unsupported settings instead of silently ignoring them', () => {
    expect(() => createScheduler('ddim', { thresholding: true })).toThrow();
    expect(() => createScheduler('euler-ancestral', { prediction_type: 'sample' })).toThrow();
    expect(() => createScheduler('pndm', { prediction_type: 'sample' })).toThrow();
    expect(() => createScheduler('ddpm', { variance_type: 'learned_range' })).toThrow();
    expect(() => createScheduler('euler', { use_karras_sigmas: true, use_exponential_sigmas: true })).toThrow();
    expect(() => createScheduler('ddim', { timestep_spacing: 'uniform' })).toThrow();
  });
  it('step before setTimesteps throws (DDPM, like diffusers, steps to t - 1 instead)', () => {
    for (const name of ['ddim', 'pndm', 'lcm', 'euler', 'euler-ancestral'] as const) {
      const s = createScheduler(name);
      expect(() => s.step(new Float32Array(4), 999, new Float32Array(4), { generator: new CountingNoise() })).toThrow();
    }
  });
  it('sample prediction passes the model output through as x0 (DDIM, DDPM, Euler)', () => {
    for (const name of ['ddim', 'ddpm', 'euler'] as const) {
      const s = createScheduler(name, { ...sd15('leading'), prediction_type: 'sample', clip_sample: false });
      s.setTimesteps(4);
      const x0 = Float32Array.from([0.25, -0.5, 0.75, 0.1]);
      const out = s.step(x0, s.timesteps[0]!, new Float32Array(4).fill(2), { generator: new CountingNoise() });
      expect(Array.from(out.predOriginalSample!)).toEqual(Array.from(x0));
    }
  });
  it('clip_sample clamps the predicted x0 (DDPM/DDIM defaults)', () => {
    const s = createScheduler('ddim');
    s.setTimesteps(10);
    const out = s.step(new Float32Array(4).fill(-30), s.timesteps[0]!, new Float32Array(4).fill(30));
    expect(out.predOriginalSample!.every((v) => v <= 1 && v >= -1)).toBe(true);
  });
});
