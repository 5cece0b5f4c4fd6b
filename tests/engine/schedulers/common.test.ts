import { describe, expect, it } from 'vitest';
import { resolveConfig, SD15_SCHEDULER_CONFIG } from '../../../src-main/engine/schedulers/config.js';
import { getNoiseSchedule } from '../../../src-main/engine/schedulers/noise-schedule.js';
import { f32, fmaf32 } from '../../../src-main/engine/schedulers/numerics/float32.js';
import { interp, npArange, npLinspace, npLogF32, roundHalfEven } from '../../../src-main/engine/schedulers/numerics/numpy.js';
import { cumprodF32, torchLinspaceF32 } from '../../../src-main/engine/schedulers/numerics/torch-float32.js';
import { interpSigmas, karrasSigmas, sigmaToT } from '../../../src-main/engine/schedulers/sigmas.js';
import { dpmTimesteps, floatTimesteps, indexForTimestep, intTimesteps } from '../../../src-main/engine/schedulers/timesteps.js';
import { loadTables } from './golden-harness.js';

describe('noise schedule tables (torch-exact)', () => {
  const tables = loadTables();
  const sched = getNoiseSchedule(SD15_SCHEDULER_CONFIG);

  it('builds all 1000 SD 1.5 betas bit for bit (torch CPU linspace rule)', () => {
    const mismatches = tables.sd15_betas_float32.filter((b, i) => sched.betas[i] !== b).length;
    expect(mismatches).toBe(0);
    expect(sched.betas.length).toBe(1000);
  });

  it('builds all 1000 alphas_cumprod bit for bit (float64 accumulation)', () => {
    const mismatches = tables.sd15_alphas_cumprod_float32.filter((a, i) => sched.alphasCumprod[i] !== a).length;
    expect(mismatches).toBe(0);
    expect(sched.alphasCumprod[0]).toBe(0.9991499781608582);
    expect(sched.alphasCumprod[999]).toBe(0.0046600960195064545);
    expect(sched.alphasCumprod[0]).toBe(tables.sd15_final_alpha_cumprod_ddim_pndm);
  });

  it('a float32 running product would not match (why cumprod accumulates in float64)', () => {
    let acc = 1;
    let differs = 0;
    sched.alphas.forEach((a, i) => {
      acc = f32(acc * a);
      if (acc !== sched.alphasCumprod[i]) differs++;
    });
    expect(differs).toBeGreaterThan(0);
    expect(cumprodF32([0.5, 0.5, 0.25])).toEqual(Float32Array.from([0.5, 0.25, 0.0625]));
  });

  it('caches tables per configuration', () => {
    expect(getNoiseSchedule({ ...SD15_SCHEDULER_CONFIG, _class_name: 'X' })).toBe(sched);
    expect(getNoiseSchedule({ ...SD15_SCHEDULER_CONFIG, beta_end: 0.02 })).not.toBe(sched);
  });

  it('builds linear, squaredcos_cap_v2 and trained_betas schedules', () => {
    const lin = getNoiseSchedule({ beta_schedule: 'linear' });
    expect(lin.betas[0]).toBe(f32(0.0001));
    expect(lin.betas[999]).toBe(f32(0.02));
    const cos = getNoiseSchedule({ beta_schedule: 'squaredcos_cap_v2' });
    expect(cos.betas[999]).toBe(f32(0.999));
    expect(cos.betas.every((b) => b > 0 && b <= f32(0.999))).toBe(true);
    const trained = getNoiseSchedule({ trained_betas: [0.1, 0.2, 0.3], num_train_timesteps: 3 });
    expect(Array.from(trained.betas)).toEqual([0.1, 0.2, 0.3].map(f32));
    expect(() => getNoiseSchedule({ beta_schedule: 'nope' })).toThrow();
  });

  it('rescale_betas_zero_snr gives a zero terminal alphas_cumprod', () => {
    const z = getNoiseSchedule({ ...SD15_SCHEDULER_CONFIG, rescale_betas_zero_snr: true });
    expect(z.alphasCumprod[999]).toBe(0);
    expect(z.alphasCumprod[0]).toBeCloseTo(sched.alphasCumprod[0]!, 6);
    const zEuler = getNoiseSchedule({ ...SD15_SCHEDULER_CONFIG, rescale_betas_zero_snr: true }, true);
    expect(zEuler.alphasCumprod[999]).toBe(2 ** -24);
  });

  it('sigma table is sqrt((1 - ac) / ac) in float32', () => {
    expect(sched.sigmaTable[999]).toBe(14.614645004272461);
    expect(sched.sigmaTable[0]).toBe(f32(0.029167532920837402));
  });
});

describe('numpy / torch numerics', () => {
  it('torchLinspaceF32 uses float32 steps from the nearer end', () => {
    const v = torchLinspaceF32(0, 1, 5);
    expect(Array.from(v)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(torchLinspaceF32(2, 3, 1)[0]).toBe(2);
  });

  it('fmaf32 rounds once', () => {
    expect(fmaf32(2, 3, 1)).toBe(7);
    // (1 + 2^-12)^2 - 1 = 2^-11 + 2^-24 exactly: no intermediate rounding of the product
    expect(fmaf32(f32(1 + 2 ** -12), f32(1 + 2 ** -12), -1)).toBe(2 ** -11 + 2 ** -24);
    // product 64 - 2^-40 plus 2^30: the float64 sum is an exact float32 tie, the true value is below it
    expect(fmaf32(8 + 2 ** -20, 8 - 2 ** -20, 2 ** 30)).toBe(2 ** 30);
    // just above the float32 midpoint 2^30 + 64: rounds up
    expect(fmaf32(f32(2 ** 6 + 2 ** -17), 1, 2 ** 30)).toBe(2 ** 30 + 128);
  });

  it('npLogF32 reproduces numpy 1.24 float32 log, including where it is not correctly rounded', () => {
    const cases: [number, number][] = [
      [0.029167532920837402, -3.534698963165283],
      [0.5, -0.6931471824645996],
      [1, 0],
      [14.614641189575195, 2.682023763656616],
      [1.0000000031710769e-30, -69.07755279541016],
      [0.7071067690849304, -0.3465735912322998],
      [6.60133695602417, 1.8872721195220947],
      [2.689493417739868, 0.989352822303772],
      [0.8014615774154663, -0.22131823003292084],
      [17.2270565032959, 2.8464813232421875],
    ];
    for (const [x, y] of cases) expect(npLogF32(x)).toBe(y);
    expect(npLogF32(0)).toBe(-Infinity);
    expect(npLogF32(-1)).toBeNaN();
    expect(npLogF32(Infinity)).toBe(Infinity);
  });

  it('roundHalfEven matches np.round', () => {
    expect([0.5, 1.5, 2.5, -1.5, -2.5, 937.5, 812.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -2, -2, 938, 812, 2, 3]);
  });

  it('npLinspace and npArange fill like numpy', () => {
    expect(npLinspace(0, 999, 1)).toEqual([0]);
    expect(npLinspace(0, 999, 4)).toEqual([0, 333, 666, 999]);
    expect(npLinspace(0, 50, 4, false)).toEqual([0, 12.5, 25, 37.5]);
    expect(npArange(1000, 0, -250)).toEqual([1000, 750, 500, 250]);
    expect(npArange(1000, 0, -1000 / 3).length).toBe(3);
  });

  it('interp matches np.interp at and between knots and outside the range', () => {
    const xp = [0, 1, 2];
    const fp = [10, 20, 40];
    expect(interp([-1, 0, 0.5, 1, 1.25, 2, 3], xp, fp)).toEqual([10, 10, 15, 20, 25, 40, 40]);
  });

  it('sigmaToT inverts interpolated sigmas (log-sigma interpolation)', () => {
    const s = getNoiseSchedule(SD15_SCHEDULER_CONFIG);
    const sig = interpSigmas([500], s)[0]!;
    expect(sigmaToT(sig, s.logSigmaTable)).toBeCloseTo(500, 3);
    expect(sigmaToT(1e3, s.logSigmaTable)).toBe(999);
    expect(sigmaToT(1e-6, s.logSigmaTable)).toBe(0);
  });

  it('karrasSigmas spans [min, max] with rho 7', () => {
    const k = karrasSigmas(0.0413, 4.1167, 4);
    expect(k[0]).toBeCloseTo(4.1167, 10);
    expect(k[3]).toBeCloseTo(0.0413, 10);
    expect(k[1]! > k[2]!).toBe(true);
  });
});

describe('timestep spacing', () => {
  it('int schedulers (DDPM/DDIM/PNDM)', () => {
    expect(intTimesteps('leading', 4, 1000, 1)).toEqual([751, 501, 251, 1]);
    expect(intTimesteps('trailing', 4, 1000, 1)).toEqual([999, 749, 499, 249]);
    expect(intTimesteps('linspace', 4, 1000, 1)).toEqual([999, 666, 333, 0]);
    expect(intTimesteps('linspace', 1, 1000, 1)).toEqual([0]);
    expect(intTimesteps('trailing', 16, 1000, 0).slice(0, 4)).toEqual([999, 937, 874, 811]);
  });

  it('Euler-type float schedules', () => {
    const lin = floatTimesteps('linspace', 20, 1000, 0);
    expect(lin[0]).toBe(999);
    expect(lin[1]).toBe(946.4210815429688);
    expect(floatTimesteps('leading', 4, 1000, 1)).toEqual([751, 501, 251, 1]);
    expect(floatTimesteps('trailing', 4, 1000, 1)).toEqual([999, 749, 499, 249]);
  });

  it('DPM-Solver / UniPC schedules', () => {
    expect(dpmTimesteps('leading', 4, 1000, 1)).toEqual([801, 601, 401, 201]);
    expect(dpmTimesteps('leading', 1, 1000, 1)).toEqual([501]);
    expect(dpmTimesteps('linspace', 4, 1000, 1)).toEqual([999, 749, 500, 250]);
    expect(dpmTimesteps('linspace', 1, 1000, 1)).toEqual([999]);
    expect(dpmTimesteps('trailing', 4, 1000, 1)).toEqual([999, 749, 499, 249]);
  });
});

describe('config and step index helpers', () => {
  it('resolveConfig merges snake_case keys over defaults, drops bookkeeping, keeps unknown keys', () => {
    const c = resolveConfig(
      { beta_start: 0.0001, steps_offset: 0 },
      { _class_name: 'DDIMScheduler', _diffusers_version: '0.8.0', steps_offset: 1, skip_prk_steps: true, beta_start: undefined },
    );
    expect(c).toEqual({ beta_start: 0.0001, steps_offset: 1, skip_prk_steps: true });
  });

  it('indexForTimestep picks the second match when a timestep repeats', () => {
    expect(indexForTimestep([999, 500, 500, 1], 500)).toBe(2);
    expect(indexForTimestep([999, 500, 1], 500)).toBe(1);
    expect(() => indexForTimestep([999, 500], 3)).toThrow();
  });
});
