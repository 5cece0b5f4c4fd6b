// PNDMScheduler (diffusers v0.40.0 scheduling_pndm.py), float32 op for op: PLMS with skip_prk_steps=True
// (N+1 model calls, the second entry duplicated) and the Runge-Kutta warm-up of skip_prk_steps=False
// (diffusers' default: 12 PRK calls, then PLMS; N+9 calls).

import { AlphaCumprodScheduler } from './alpha-cumprod-scheduler.js';
import { assertStepCount, cfgBool, cfgNumber, timestepSpacingOf, type TimestepSpacing } from './config.js';
import { sqrt32 } from './numerics/float32.js';
import { npArange, npLinspace, roundHalfEven } from './numerics/numpy.js';
import type { SchedulerConfig, StepOptions, StepResult } from './types.js';
import { assertSameLength } from './vector-ops.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

/** diffusers PNDMScheduler.__init__ defaults. */
export const PNDM_DEFAULTS: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  skip_prk_steps: false,
  set_alpha_to_one: false,
  prediction_type: 'epsilon',
  timestep_spacing: 'leading',
  steps_offset: 0,
});

const PNDM_ORDER = 4;

export class PNDMScheduler extends AlphaCumprodScheduler {
  readonly name = 'pndm' as const;

  private readonly finalAlphaCumprod: number;
  private readonly spacing: TimestepSpacing;
  private readonly skipPrk: boolean;
  private prkTimesteps: number[] = [];
  // running state
  private counter = 0;
  private ets: Float32Array[] = [];
  private curSample: Float32Array | null = null;
  private curModelOutput: Float32Array | null = null;

  constructor(config?: SchedulerConfig) {
    super({ who: 'PNDM', defaults: PNDM_DEFAULTS, config, predictions: ['epsilon', 'v_prediction'], zeroSnrOption: false, thresholdingOption: false });
    this.finalAlphaCumprod = this.readFinalAlphaCumprod(false);
    this.spacing = timestepSpacingOf(this.config, 'leading');
    this.skipPrk = cfgBool(this.config, 'skip_prk_steps', false);
  }

  setTimesteps(numInferenceSteps: number): void {
    const T = this.schedule.numTrainTimesteps;
    const n = numInferenceSteps;
    assertStepCount(n, 'PNDM');
    this.numInferenceSteps = n;
    // ascending `_timesteps`
    let ts: number[];
    if (this.spacing === 'linspace') {
      ts = npLinspace(0, T - 1, n).map(roundHalfEven);
    } else if (this.spacing === 'leading') {
      const ratio = Math.floor(T / n);
      const off = cfgNumber(this.config, 'steps_offset', 0);
      ts = Array.from({ length: n }, (_, i) => i * ratio + off);
    } else {
      ts = npArange(T, 0, -(T / n)).map((v) => roundHalfEven(v)).reverse().map((v) => v - 1);
    }
    let prk: number[];
    let plms: number[];
    if (this.skipPrk) {
      prk = [];
      plms = [...ts.slice(0, -1), ...ts.slice(-2, -1), ...ts.slice(-1)].reverse();
    } else {
      if (ts.length < PNDM_ORDER) {
        // diffusers fails here too (numpy broadcast error): the Runge-Kutta warm-up needs 4 timesteps.
        throw new Error(`PNDM: skip_prk_steps=False needs num_inference_steps >= ${PNDM_ORDER}, got ${n}`);
      }
      const last = ts.slice(-PNDM_ORDER);
      const half = Math.floor(Math.floor(T / n) / 2);
      // np.array(last).repeat(2) + np.tile([0, half], 4)
      const rep: number[] = [];
      for (const v of last) rep.push(v, v + half);
      const cut = rep.slice(0, -1);
      const doubled: number[] = [];
      for (const v of cut) doubled.push(v, v);
      prk = doubled.slice(1, -1).reverse();
      plms = ts.slice(0, Math.max(0, ts.length - 3)).reverse();
    }
    this.prkTimesteps = prk;
    this.timesteps = [...prk, ...plms];
    this.ets = [];
    this.counter = 0;
    this.curModelOutput = null;
    this.curSample = null;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _options: StepOptions = {}): StepResult {
    this.stepCount();
    assertSameLength(modelOutput, sample, 'PNDM.step');
    if (this.counter < this.prkTimesteps.length && !this.skipPrk) return this.stepPrk(modelOutput, timestep, sample);
    return this.stepPlms(modelOutput, timestep, sample);
  }

  private stepPrk(modelOutput: Float32Array, timestep: number, sample: Float32Array): StepResult {
    const T = this.schedule.numTrainTimesteps;
    const nInf = this.stepCount();
    const diffToPrev = this.counter % 2 ? 0 : Math.floor(Math.floor(T / nInf) / 2);
    const prevTimestep = timestep - diffToPrev;
    const t = this.prkTimesteps[Math.floor(this.counter / 4) * 4]!;
    const n = sample.length;
    let output = modelOutput;
    const c6 = f32(1 / 6);
    const c3 = f32(1 / 3);
    const phase = this.counter % 4;
    if (phase === 0) {
      // cur_model_output (int 0) += 1/6 * model_output
      const cur = new Float32Array(n);
      for (let i = 0; i < n; i++) cur[i] = c6 * modelOutput[i]!;
      this.curModelOutput = cur;
      this.ets.push(modelOutput);
      this.curSample = sample;
    } else if (phase === 1 || phase === 2) {
      const cur = this.curModelOutput!;
      for (let i = 0; i < n; i++) cur[i] = cur[i]! + f32(c3 * modelOutput[i]!);
    } else {
      const cur = this.curModelOutput!;
      output = new Float32Array(n);
      for (let i = 0; i < n; i++) output[i] = cur[i]! + f32(c6 * modelOutput[i]!);
      this.curModelOutput = null;
    }
    const curSample = this.curSample ?? sample;
    const prev = this.prevSample(curSample, t, prevTimestep, output);
    this.counter += 1;
    return { prevSample: prev };
  }

  private stepPlms(modelOutput: Float32Array, timestep: number, sample: Float32Array): StepResult {
    const T = this.schedule.numTrainTimesteps;
    const nInf = this.stepCount();
    if (!this.skipPrk && this.ets.length < 3) {
      throw new Error('PNDM: an only-PLMS run needs skip_prk_steps=True (not enough PRK steps before PLMS)');
    }
    const ratio = Math.floor(T / nInf);
    let prevTimestep = timestep - ratio;
    let t = timestep;
    if (this.counter !== 1) {
      this.ets = this.ets.slice(-3);
      this.ets.push(modelOutput);
    } else {
      prevTimestep = timestep;
      t = timestep + ratio;
    }
    const n = sample.length;
    const e = this.ets;
    const k = e.length;
    let output: Float32Array;
    let x = sample;
    if (k === 1 && this.counter === 0) {
      output = modelOutput;
      this.curSample = sample;
    } else if (k === 1 && this.counter === 1) {
      output = new Float32Array(n);
      const e1 = e[0]!;
      for (let i = 0; i < n; i++) output[i] = f32(modelOutput[i]! + e1[i]!) / 2;
      x = this.curSample!;
      this.curSample = null;
    } else if (k === 2) {
      output = new Float32Array(n);
      const e1 = e[1]!;
      const e2 = e[0]!;
      for (let i = 0; i < n; i++) output[i] = f32(f32(3 * e1[i]!) - e2[i]!) / 2;
    } else if (k === 3) {
      output = new Float32Array(n);
      const e1 = e[2]!;
      const e2 = e[1]!;
      const e3 = e[0]!;
      for (let i = 0; i < n; i++) {
        output[i] = f32(f32(f32(23 * e1[i]!) - f32(16 * e2[i]!)) + f32(5 * e3[i]!)) / 12;
      }
    } else {
      output = new Float32Array(n);
      const e1 = e[k - 1]!;
      const e2 = e[k - 2]!;
      const e3 = e[k - 3]!;
      const e4 = e[k - 4]!;
      const c24 = f32(1 / 24);
      for (let i = 0; i < n; i++) {
        const s = f32(f32(f32(f32(55 * e1[i]!) - f32(59 * e2[i]!)) + f32(37 * e3[i]!)) - f32(9 * e4[i]!));
        output[i] = c24 * s;
      }
    }
    const prev = this.prevSample(x, t, prevTimestep, output);
    this.counter += 1;
    return { prevSample: prev };
  }

  /** diffusers `_get_prev_sample` (formula (9) of the PNDM paper). */
  private prevSample(sample: Float32Array, timestep: number, prevTimestep: number, modelOutput: Float32Array): Float32Array {
    const ac = this.schedule.alphasCumprod;
    const aT = ac[timestep];
    if (aT === undefined) throw new Error(`PNDM: timestep ${timestep} out of range`);
    const aPrev = prevTimestep >= 0 ? ac[prevTimestep]! : this.finalAlphaCumprod;
    const betaT = f32(1 - aT);
    const betaPrev = f32(1 - aPrev);
    const n = sample.length;
    let mo = modelOutput;
    if (this.prediction === 'v_prediction') {
      const sa = sqrt32(aT);
      const sb = sqrt32(betaT);
      mo = new Float32Array(n);
      for (let i = 0; i < n; i++) mo[i] = f32(sa * modelOutput[i]!) + f32(sb * sample[i]!);
    }
    const sampleCoeff = sqrt32(f32(aPrev / aT));
    const denom = f32(f32(aT * sqrt32(betaPrev)) + sqrt32(f32(f32(aT * betaT) * aPrev)));
    const diff = f32(aPrev - aT);
    const prev = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      prev[i] = f32(sampleCoeff * sample[i]!) - f32(f32(diff * mo[i]!) / denom);
    }
    return prev;
  }
}
